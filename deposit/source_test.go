package deposit

import (
	"context"
	"strings"
	"testing"

	"github.com/versement/versement/extract"
)

// Describe reads only the documents that bring a table, but an optional table the first of
// them marks absent is still described from a later document that has it.
func TestDescribeFindsATableAbsentFromTheFirstDocuments(t *testing.T) {
	ctx := context.Background()
	s := refService(t)
	tx, err := s.Create(ctx, Header{Profile: "apogee", Class: "etudiant"}, "client")
	if err != nil {
		t.Fatal(err)
	}
	absent := strings.Replace(unitDoc("etudiant", 1, ""), `]]}]}`, `]]},{"name":"THESE_HDR_SOUT","absent":true,"columns":[],"types":[],"rows":[]}]}`, 1)
	present := strings.Replace(unitDoc("etudiant", 2, ""), `]]}]}`, `]]},{"name":"THESE_HDR_SOUT","columns":["COD_IND","COD_THS"],"types":["integer","text"],"rows":[[2,"T1"]]}]}`, 1)
	if _, err := s.AddUnits(ctx, tx.ID, strings.NewReader(absent+"\n"+unitDoc("etudiant", 3, "")+"\n"+present), "client"); err != nil {
		t.Fatal(err)
	}
	rec, err := s.load(tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	src, err := s.openSource(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ti := range src.tables {
		var cols []string
		for _, c := range ti.Columns {
			cols = append(cols, c.Name+":"+string(c.Kind))
		}
		got = append(got, ti.Name+"("+strings.Join(cols, ",")+")")
	}
	if want := "INDIVIDU(COD_IND:integer,PHOTO:binary) THESE_HDR_SOUT(COD_IND:integer,COD_THS:text)"; strings.Join(got, " ") != want {
		t.Fatalf("described %v, want %s", got, want)
	}
	var keys []string
	for d, err := range src.Dossiers(ctx, extract.Spec{}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, itoa(int(d.Key.(int64))))
	}
	if strings.Join(keys, ",") != "1,2,3" {
		t.Fatalf("dossiers in order %v, want 1,2,3", keys)
	}
}
