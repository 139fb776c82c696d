package extract

import (
	"errors"
	"testing"
)

// How each dialect's folding presents columns and resolves the names a class gives. Oracle has no
// server here: this is its proof.
func TestPresentAndResolveByFolding(t *testing.T) {
	cols := func(names ...string) []Column {
		var out []Column
		for _, n := range names {
			out = append(out, Column{Name: n})
		}
		return out
	}
	cases := []struct {
		d     dialect
		info  TableInfo
		named []string
		want  string // presented Name/SourceName pairs
	}{
		// PostgreSQL, unquoted DDL, upper-case profile: every column shown in upper case.
		{postgresDialect{}, TableInfo{Name: "INDIVIDU", SourceName: "individu", Columns: cols("cod_ind", "lib_nom", "MixedCase")}, []string{"COD_IND"}, "COD_IND/cod_ind LIB_NOM/lib_nom MixedCase/"},
		// Oracle, unquoted DDL (upper case), lower-case profile: shown in lower case.
		{oracleDialect{}, TableInfo{Name: "individu", SourceName: "INDIVIDU", Columns: cols("COD_IND", "LIB_NOM", "Quoted")}, []string{"cod_ind"}, "cod_ind/COD_IND lib_nom/LIB_NOM Quoted/"},
		// Same case everywhere: nothing changes.
		{oracleDialect{}, TableInfo{Name: "INDIVIDU", Columns: cols("COD_IND", "LIB_NOM")}, []string{"COD_IND"}, "COD_IND/ LIB_NOM/"},
		// A profile naming a column in its own spelling gets it.
		{sqliteDialect{}, TableInfo{Name: "Individu", Columns: cols("cod_ind", "Lib_Nom")}, []string{"COD_IND", "LIB_NOM"}, "COD_IND/cod_ind LIB_NOM/Lib_Nom"},
	}
	for _, c := range cases {
		got, err := present(c.d, "db", c.info, c.named)
		if err != nil {
			t.Fatalf("%s: %v", c.d.name(), err)
		}
		var s string
		for i, col := range got.Columns {
			if i > 0 {
				s += " "
			}
			s += col.Name + "/" + col.SourceName
		}
		if s != c.want {
			t.Errorf("%s %s: %s, want %s", c.d.name(), c.info.Name, s, c.want)
		}
		for _, n := range c.named {
			if _, ok, err := resolveColumn(c.d, "db", got, n); !ok || err != nil {
				t.Errorf("%s: %s not resolved: %v", c.d.name(), n, err)
			}
		}
	}
	// Oracle: both "Cod_Ind"'s folded form and the exact name exist.
	info := TableInfo{Name: "T", Columns: cols("cod_ind", "COD_IND")}
	_, _, err := resolveColumn(oracleDialect{}, "oracle://u:xxxxx@db/x", info, "cod_ind")
	var amb *AmbiguousNameError
	if !errors.As(err, &amb) || err.Error() != `oracle://u:xxxxx@db/x: column T.cod_ind is ambiguous: the database has both "cod_ind" and "COD_IND" (Oracle folds unquoted names to upper case); rename one, or name the table or column as the database spells the one to read` {
		t.Errorf("ambiguous: %v", err)
	}
	if got := foldParts(oracleDialect{}, "apogee.individu"); got != "APOGEE.INDIVIDU" {
		t.Errorf("foldParts = %s", got)
	}
	m := &MissingTableError{Table: "individu", Profile: "mine", Where: "oracle://u:xxxxx@db/x", Tried: []string{"individu", "INDIVIDU"}, Folding: oracleDialect{}.folding()}
	if m.Error() != `oracle://u:xxxxx@db/x: table individu not found (profile mine; looked for "individu" and "INDIVIDU": Oracle folds unquoted names to upper case)` {
		t.Errorf("missing: %s", m.Error())
	}
}
