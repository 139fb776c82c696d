package profiles

import (
	"strings"
	"testing"
)

func TestExprRefs(t *testing.T) {
	cases := []struct{ src, want string }{
		{`endOfYear(map(filter(INS_ADM_ANU, .ETA_IAA == "E"), .COD_ANU))`, "INS_ADM_ANU INS_ADM_ANU.ETA_IAA INS_ADM_ANU.COD_ANU"},
		{`date(INDIVIDU.D_NAISSANCE)`, "INDIVIDU INDIVIDU.D_NAISSANCE"},
		{`latestEnd(map(AFFECTATION, .D_FIN_AFFECTATION), map(CONTRAT_AVENANT, coalesce(.D_FIN_EXECUTION, .D_FIN_CONTRAT_TRAV)))`,
			"AFFECTATION AFFECTATION.D_FIN_AFFECTATION CONTRAT_AVENANT CONTRAT_AVENANT.D_FIN_EXECUTION CONTRAT_AVENANT.D_FIN_CONTRAT_TRAV"},
		{`latest(map(CARRIERE, [.D_DEB_CARRIERE, .D_FIN_CARRIERE]))`, "CARRIERE CARRIERE.D_DEB_CARRIERE CARRIERE.D_FIN_CARRIERE"},
		{`let x = first(CARRIERE); x.D_DEB ?? INDIVIDU["D_NAISSANCE"]`, "CARRIERE INDIVIDU INDIVIDU.D_NAISSANCE"},
		{`CARRIERE[0].D_DEB_CARRIERE`, "CARRIERE CARRIERE.D_DEB_CARRIERE"},
		{`count(T, .A > 1) > 0 ? date(U.B) : nil`, "T T.A U U.B"},
	}
	for _, c := range cases {
		refs, err := exprRefs(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.String())
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.src, strings.Join(got, " "), c.want)
		}
	}
}
