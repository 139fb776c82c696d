// Package demo builds synthetic Apogée and Harpège databases with the real table and column names
// (../shared/domain/apogee-harpege.md §3), forty years of history, French names, dirty values and
// photos, deterministically from a seed. Tests of other packages use it to build a source in a few
// lines; `versement demo-db` exposes it to users.
package demo

import (
	"fmt"
	"strings"

	"github.com/versement/versement/extract"
)

// Profiles that Generate knows.
const (
	Apogee  = "apogee"
	Harpege = "harpege"
)

type column struct {
	name, typ string // typ in a neutral form: INTEGER, BIGINT, VARCHAR(n), CHAR(n), DATE, TIMESTAMP, NUMERIC(p,s), TEXT, BLOB
	notNull   bool
}

type table struct {
	name    string
	cols    []column
	pk      []string
	index   string // the column child rows are fetched by (dossier key), indexed after loading
	comment string
}

func c(name, typ string) column  { return column{name: name, typ: typ} }
func nn(name, typ string) column { return column{name: name, typ: typ, notNull: true} }

var apogeeTables = []table{
	{name: "ANNEE_UNI", comment: "Années universitaires", cols: []column{nn("COD_ANU", "CHAR(4)"), c("LIB_ANU", "VARCHAR(40)"), c("ETA_ANU_IAE", "CHAR(1)")}, pk: []string{"COD_ANU"}},
	{name: "DIPLOME", comment: "Diplômes", cols: []column{nn("COD_DIP", "VARCHAR(7)"), c("LIB_DIP", "VARCHAR(120)"), c("LIC_DIP", "VARCHAR(25)"), c("COD_CYC", "CHAR(1)")}, pk: []string{"COD_DIP"}},
	{name: "ETAPE", comment: "Étapes", cols: []column{nn("COD_ETP", "VARCHAR(6)"), c("LIB_ETP", "VARCHAR(120)"), c("LIC_ETP", "VARCHAR(25)"), c("COD_CYC", "CHAR(1)")}, pk: []string{"COD_ETP"}},
	{name: "INDIVIDU", comment: "Étudiants", cols: []column{
		nn("COD_IND", "INTEGER"), c("COD_ETU", "INTEGER"), c("COD_NNE_IND", "VARCHAR(11)"), c("COD_CIV", "CHAR(1)"),
		c("LIB_NOM_PAT_IND", "VARCHAR(30)"), c("LIB_NOM_USU_IND", "VARCHAR(30)"), c("LIB_PR1_IND", "VARCHAR(20)"), c("LIB_PR2_IND", "VARCHAR(20)"),
		c("DATE_NAI_IND", "DATE"), c("LIB_VIL_NAI_ETU", "VARCHAR(30)"), c("COD_PAY_NAT", "CHAR(3)"), c("DAT_CRE_IND", "TIMESTAMP"), c("LIB_CMT_IND", "TEXT"),
	}, pk: []string{"COD_IND"}},
	{name: "ADRESSE", index: "COD_IND", cols: []column{nn("COD_ADR", "INTEGER"), c("COD_IND", "INTEGER"), c("LIB_AD1", "VARCHAR(40)"), c("LIB_AD2", "VARCHAR(40)"), c("LIB_AD3", "VARCHAR(40)"), c("COD_BDI", "CHAR(5)"), c("COD_PAY", "CHAR(3)"), c("NUM_TEL", "VARCHAR(15)"), c("ADR_MAIL", "VARCHAR(200)")}, pk: []string{"COD_ADR"}},
	{name: "INS_ADM_ANU", index: "COD_IND", cols: []column{nn("COD_ANU", "CHAR(4)"), nn("COD_IND", "INTEGER"), c("ETA_IAA", "CHAR(1)"), c("COD_RGI", "CHAR(1)"), c("COD_STU", "VARCHAR(2)"), c("DAT_CRE_IAA", "TIMESTAMP"), c("DAT_MOD_IAA", "TIMESTAMP")}, pk: []string{"COD_ANU", "COD_IND"}},
	{name: "INS_ADM_ETP", index: "COD_IND", cols: []column{nn("COD_ANU", "CHAR(4)"), nn("COD_IND", "INTEGER"), nn("COD_ETP", "VARCHAR(6)"), nn("COD_VRS_VET", "VARCHAR(3)"), nn("NUM_OCC_IAE", "INTEGER"), c("ETA_IAE", "CHAR(1)"), c("ETA_PMT_IAE", "CHAR(1)"), c("COD_DIP", "VARCHAR(7)"), c("COD_VRS_VDI", "VARCHAR(3)"), c("DAT_CRE_IAE", "TIMESTAMP"), c("DAT_ANNUL_RES_IAE", "DATE")}, pk: []string{"COD_ANU", "COD_IND", "COD_ETP", "COD_VRS_VET", "NUM_OCC_IAE"}},
	{name: "RESULTAT_VET", index: "COD_IND", cols: []column{nn("COD_IND", "INTEGER"), nn("COD_ETP", "VARCHAR(6)"), nn("COD_VRS_VET", "VARCHAR(3)"), nn("COD_ANU", "CHAR(4)"), nn("COD_SES", "CHAR(1)"), nn("COD_ADM", "CHAR(1)"), c("NOT_VET", "NUMERIC(6,3)"), c("COD_TRE", "VARCHAR(4)"), c("COD_MEN", "VARCHAR(2)"), c("DAT_CRE_VET", "TIMESTAMP")}, pk: []string{"COD_IND", "COD_ETP", "COD_VRS_VET", "COD_ANU", "COD_SES", "COD_ADM"}},
	{name: "RESULTAT_VDI", index: "COD_IND", cols: []column{nn("COD_IND", "INTEGER"), nn("COD_DIP", "VARCHAR(7)"), nn("COD_VRS_VDI", "VARCHAR(3)"), nn("COD_ANU", "CHAR(4)"), nn("COD_SES", "CHAR(1)"), nn("COD_ADM", "CHAR(1)"), c("NOT_VDI", "NUMERIC(6,3)"), c("COD_TRE", "VARCHAR(4)"), c("COD_MEN", "VARCHAR(2)"), c("DAT_OBT_VDI", "DATE"), c("NUM_OBT_VDI", "VARCHAR(12)")}, pk: []string{"COD_IND", "COD_DIP", "COD_VRS_VDI", "COD_ANU", "COD_SES", "COD_ADM"}},
	{name: "RESULTAT_ELP", index: "COD_IND", cols: []column{nn("COD_IND", "INTEGER"), nn("COD_ELP", "VARCHAR(8)"), nn("COD_ANU", "CHAR(4)"), nn("COD_SES", "CHAR(1)"), nn("COD_ADM", "CHAR(1)"), c("NOT_ELP", "NUMERIC(6,3)"), c("COD_TRE", "VARCHAR(4)")}, pk: []string{"COD_IND", "COD_ELP", "COD_ANU", "COD_SES", "COD_ADM"}},
	{name: "IND_BAC", index: "COD_IND", cols: []column{nn("COD_IND", "INTEGER"), nn("COD_BAC", "VARCHAR(4)"), c("DAA_OBT_BAC_IBA", "CHAR(4)"), c("COD_ETB", "VARCHAR(8)"), c("COD_DEP", "CHAR(3)"), c("COD_MNB", "VARCHAR(2)")}, pk: []string{"COD_IND", "COD_BAC"}},
	{name: "PHO_ETU", index: "COD_IND", cols: []column{nn("COD_IND", "INTEGER"), c("PHO_ETU", "BLOB")}, pk: []string{"COD_IND"}},
	{name: "THESE_HDR_SOUT", index: "COD_IND", cols: []column{nn("COD_THS", "INTEGER"), c("COD_IND", "INTEGER"), c("COD_DIP", "VARCHAR(7)"), c("COD_THS_TRV", "CHAR(1)"), c("ETA_THS", "CHAR(1)"), c("LIB_THS", "VARCHAR(2000)"), c("DAT_DEB_THS", "DATE"), c("DAT_SOU_THS", "DATE"), c("DAT_ABANDON", "DATE"), c("DAT_FIN_CFD_THS", "DATE")}, pk: []string{"COD_THS"}},
}

var harpegeTables = []table{
	{name: "STRUCTURE", comment: "Structures", cols: []column{nn("C_STRUCTURE", "VARCHAR(10)"), c("C_STRUCTURE_PERE", "VARCHAR(10)"), c("LC_STRUCTURE", "VARCHAR(20)"), c("LL_STRUCTURE", "VARCHAR(120)"), c("DATE_OUVERTURE", "DATE"), c("DATE_FERMETURE", "DATE")}, pk: []string{"C_STRUCTURE"}},
	{name: "INDIVIDU", comment: "Agents", cols: []column{nn("NO_INDIVIDU", "INTEGER"), c("C_CIVILITE", "VARCHAR(5)"), c("NOM_USUEL", "VARCHAR(60)"), c("PRENOM", "VARCHAR(40)"), c("NOM_PATRONYMIQUE", "VARCHAR(60)"), c("D_NAISSANCE", "DATE"), c("VILLE_DE_NAISSANCE", "VARCHAR(60)"), c("C_DEPT_NAISSANCE", "CHAR(3)"), c("C_PAYS_NATIONNALITE", "CHAR(3)"), c("D_CREATION", "TIMESTAMP")}, pk: []string{"NO_INDIVIDU"}},
	{name: "PERSONNEL", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), c("C_SITUATION_FAMILLE", "VARCHAR(2)"), c("TXT_OBSERVATIONS", "TEXT")}, pk: []string{"NO_DOSSIER_PERS"}},
	{name: "CARRIERE", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), nn("NO_SEQ_CARRIERE", "INTEGER"), c("C_TYPE_POPULATION", "VARCHAR(2)"), c("D_DEB_CARRIERE", "DATE"), c("D_FIN_CARRIERE", "DATE")}, pk: []string{"NO_DOSSIER_PERS", "NO_SEQ_CARRIERE"}},
	{name: "ELEMENT_CARRIERE", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), nn("NO_SEQ_CARRIERE", "INTEGER"), nn("NO_SEQ_ELEMENT", "INTEGER"), c("C_CORPS", "VARCHAR(4)"), c("C_GRADE", "VARCHAR(4)"), c("C_ECHELON", "VARCHAR(2)"), c("TEM_PROVISOIRE", "CHAR(1)"), c("D_EFFET_ELEMENT", "DATE"), c("D_FIN_ELEMENT", "DATE"), c("D_ANNULATION", "DATE")}, pk: []string{"NO_DOSSIER_PERS", "NO_SEQ_CARRIERE", "NO_SEQ_ELEMENT"}},
	{name: "CONTRAT_TRAVAIL", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), nn("NO_CONTRAT_TRAVAIL", "INTEGER"), c("C_TYPE_CONTRAT_TRAV", "VARCHAR(2)")}, pk: []string{"NO_DOSSIER_PERS", "NO_CONTRAT_TRAVAIL"}},
	{name: "CONTRAT_AVENANT", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), nn("NO_CONTRAT_TRAVAIL", "INTEGER"), nn("NO_AVENANT", "INTEGER"), c("C_SECTION_CNU", "VARCHAR(2)"), c("D_DEB_CONTRAT_TRAV", "DATE"), c("D_FIN_CONTRAT_TRAV", "DATE"), c("D_FIN_EXECUTION", "DATE")}, pk: []string{"NO_DOSSIER_PERS", "NO_CONTRAT_TRAVAIL", "NO_AVENANT"}},
	{name: "AFFECTATION", index: "NO_DOSSIER_PERS", cols: []column{nn("NO_DOSSIER_PERS", "INTEGER"), nn("NO_SEQ_AFFECTATION", "INTEGER"), c("NO_SEQ_CARRIERE", "INTEGER"), c("NO_CONTRAT_TRAVAIL", "INTEGER"), c("C_STRUCTURE", "VARCHAR(10)"), c("NUM_QUOT_AFFECTATION", "NUMERIC(5,2)"), c("DEN_QUOT_AFFECTATION", "NUMERIC(5,2)"), c("D_DEB_AFFECTATION", "DATE"), c("D_FIN_AFFECTATION", "DATE"), c("D_CREATION", "TIMESTAMP")}, pk: []string{"NO_DOSSIER_PERS", "NO_SEQ_AFFECTATION"}},
	{name: "ADRESSE_PERSONNELLE", index: "NO_INDIVIDU", cols: []column{nn("NO_INDIVIDU", "INTEGER"), c("TEM_ADR_PERS_PRINC", "CHAR(1)"), c("NO_VOIE", "VARCHAR(5)"), c("C_VOIE", "VARCHAR(4)"), c("NOM_VOIE", "VARCHAR(60)"), c("CODE_POSTAL", "CHAR(5)"), c("VILLE", "VARCHAR(60)"), c("C_PAYS", "CHAR(3)"), c("TELEPHONE_DOMICILE", "VARCHAR(20)"), c("D_CREATION", "TIMESTAMP")}},
	{name: "INDIVIDU_BANQUE", index: "NO_DOSSIER_PERS", cols: []column{nn("ID_IND_BANQUE", "INTEGER"), nn("NO_DOSSIER_PERS", "INTEGER"), c("C_BANQUE", "CHAR(5)"), c("C_GUICHET", "CHAR(5)"), c("NO_COMPTE", "VARCHAR(11)"), c("CLE_RIB", "CHAR(2)"), c("C_BANQUE_BIC", "VARCHAR(11)"), c("D_CREATION", "TIMESTAMP")}, pk: []string{"ID_IND_BANQUE"}},
}

func tables(profile string) ([]table, error) {
	switch profile {
	case Apogee:
		return apogeeTables, nil
	case Harpege:
		return harpegeTables, nil
	}
	return nil, fmt.Errorf("demo profile %q: want apogee or harpege", profile)
}

// sqlType translates the neutral type to the dialect's.
func sqlType(dialect, typ string) string {
	if dialect == "postgres" && typ == "BLOB" {
		return "BYTEA"
	}
	return typ
}

func createSQL(dialect string, t table) []string {
	var defs []string
	for _, col := range t.cols {
		d := `"` + col.name + `" ` + sqlType(dialect, col.typ)
		if col.notNull {
			d += " NOT NULL"
		}
		defs = append(defs, d)
	}
	if len(t.pk) > 0 {
		defs = append(defs, `PRIMARY KEY ("`+strings.Join(t.pk, `", "`)+`")`)
	}
	out := []string{`CREATE TABLE "` + t.name + `" (` + strings.Join(defs, ", ") + `)`}
	if dialect == "postgres" && t.comment != "" {
		out = append(out, `COMMENT ON TABLE "`+t.name+`" IS '`+strings.ReplaceAll(t.comment, "'", "''")+`'`)
	}
	return out
}

func indexSQL(t table) string {
	if t.index == "" {
		return ""
	}
	return `CREATE INDEX "IX_` + t.name + `_` + t.index + `" ON "` + t.name + `" ("` + t.index + `")`
}

// ApogeeClass is the student dossier: INDIVIDU by COD_IND, with its registrations, results,
// baccalaureate, photo and thesis.
func ApogeeClass() extract.Spec {
	child := func(name string, order ...string) extract.Child {
		return extract.Child{Table: extract.Table{Name: name}, JoinColumn: "COD_IND", OrderBy: order}
	}
	return extract.Spec{
		Name: "etudiant",
		Root: extract.Table{Name: "INDIVIDU", Key: "COD_IND"},
		Children: []extract.Child{
			child("ADRESSE", "COD_ADR"),
			child("INS_ADM_ANU", "COD_ANU"),
			child("INS_ADM_ETP", "COD_ANU", "COD_ETP", "COD_VRS_VET", "NUM_OCC_IAE"),
			child("RESULTAT_VET", "COD_ANU", "COD_ETP", "COD_VRS_VET", "COD_SES", "COD_ADM"),
			child("RESULTAT_VDI", "COD_ANU", "COD_DIP", "COD_VRS_VDI", "COD_SES", "COD_ADM"),
			child("RESULTAT_ELP", "COD_ANU", "COD_ELP", "COD_SES", "COD_ADM"),
			child("IND_BAC", "COD_BAC"),
			child("PHO_ETU"),
			child("THESE_HDR_SOUT", "COD_THS"),
		},
	}
}

// HarpegeClass is the agent dossier: INDIVIDU by NO_INDIVIDU (= NO_DOSSIER_PERS elsewhere), with
// careers, contracts, assignments, address and bank details.
func HarpegeClass() extract.Spec {
	child := func(name, join string, order ...string) extract.Child {
		return extract.Child{Table: extract.Table{Name: name}, JoinColumn: join, OrderBy: order}
	}
	return extract.Spec{
		Name: "agent",
		Root: extract.Table{Name: "INDIVIDU", Key: "NO_INDIVIDU"},
		Children: []extract.Child{
			child("PERSONNEL", "NO_DOSSIER_PERS"),
			child("CARRIERE", "NO_DOSSIER_PERS", "NO_SEQ_CARRIERE"),
			child("ELEMENT_CARRIERE", "NO_DOSSIER_PERS", "NO_SEQ_CARRIERE", "NO_SEQ_ELEMENT"),
			child("CONTRAT_TRAVAIL", "NO_DOSSIER_PERS", "NO_CONTRAT_TRAVAIL"),
			child("CONTRAT_AVENANT", "NO_DOSSIER_PERS", "NO_CONTRAT_TRAVAIL", "NO_AVENANT"),
			child("AFFECTATION", "NO_DOSSIER_PERS", "NO_SEQ_AFFECTATION"),
			child("ADRESSE_PERSONNELLE", "NO_INDIVIDU", "D_CREATION"),
			child("INDIVIDU_BANQUE", "NO_DOSSIER_PERS", "ID_IND_BANQUE"),
		},
	}
}

// Class is the dossier class of a demo profile.
func Class(profile string) (extract.Spec, error) {
	switch profile {
	case Apogee:
		return ApogeeClass(), nil
	case Harpege:
		return HarpegeClass(), nil
	}
	return extract.Spec{}, fmt.Errorf("demo profile %q: want apogee or harpege", profile)
}
