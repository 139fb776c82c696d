package retention

import (
	"fmt"
	"sync"
	"testing"

	"github.com/versement/versement/civil"
)

func benchEnv(years int) map[string]any {
	rows := make([]map[string]any, years)
	for i := range rows {
		rows[i] = map[string]any{"COD_ANU": fmt.Sprint(2000 + i), "ETA_IAA": "E", "COD_IND": int64(42)}
	}
	return map[string]any{"INDIVIDU": map[string]any{"COD_IND": int64(42), "LIB_NOM_PAT_IND": "Bernard", "DATE_NAI_IND": day("1980-05-01")}, "INS_ADM_ANU": rows}
}

// BenchmarkDecideApogee: one decision of the built-in Apogée rule for a student with 5 years of
// registration (the per-dossier cost the pipeline pays).
func BenchmarkDecideApogee(b *testing.B) {
	s, err := BuiltinSchedule("apogee")
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv(5)
	asOf := day("2024-01-01")
	b.ReportAllocs()
	for b.Loop() {
		if d := s.Decide("APP-APO-IA", env, "42", asOf); d.Tier != Final {
			b.Fatal(d.Explain())
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	s, _ := BuiltinSchedule("apogee")
	d := s.Decide("APP-APO-IA", benchEnv(5), "42", day("2024-01-01"))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Explain()
	}
}

// TestConcurrentDecide: one compiled schedule serves many goroutines (run with -race).
func TestConcurrentDecide(t *testing.T) {
	s, _ := BuiltinSchedule("apogee")
	want := s.Decide("APP-APO-IA", benchEnv(3), "42", civil.Date{Year: 2020, Month: 1, Day: 1}).Explain()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got := s.Decide("APP-APO-IA", benchEnv(3), "42", civil.Date{Year: 2020, Month: 1, Day: 1}).Explain(); got != want {
					t.Errorf("got %s", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
