package retention

import (
	"reflect"
	"testing"
)

func TestDateExpr(t *testing.T) {
	e, err := CompileDateExpr(`endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))`, MonthDay{})
	if err != nil {
		t.Fatal(err)
	}
	d, note, err := e.Eval(apogeeEnv("2014", "2015"))
	if err != nil || d != day("2016-08-31") || note != "end of year 2015-2016" {
		t.Errorf("eval: %s %q %v", d, note, err)
	}
	d, _, err = e.Eval(apogeeEnv())
	if err != nil || !d.IsZero() {
		t.Errorf("no registration: %s %v", d, err)
	}
	if _, err := CompileDateExpr("date(", MonthDay{}); err == nil || err.Error() != "unexpected token EOF (1:5)" {
		t.Errorf("compile: %v", err)
	}
	bad, _ := CompileDateExpr("INDIVIDU.LIB_NOM_PAT_IND", MonthDay{})
	if _, _, err := bad.Eval(apogeeEnv()); err == nil || err.Error() != `INDIVIDU.LIB_NOM_PAT_IND: text "Martin" is not a date (want YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD; use parseDate for others)` {
		t.Errorf("not a date: %v", err)
	}
	if got := e.Tables(); !reflect.DeepEqual(got, []string{"INS_ADM_ANU"}) {
		t.Errorf("tables %v", got)
	}
	h, _ := BuiltinSchedule("harpege")
	r, _ := h.Rule("APP-HAR-DI")
	if got := r.Tables(); !reflect.DeepEqual(got, []string{"AFFECTATION", "CARRIERE", "CONTRAT_AVENANT", "INDIVIDU"}) {
		t.Errorf("rule tables %v", got)
	}
}
