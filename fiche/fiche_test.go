package fiche

import (
	"bytes"
	"strings"
	"testing"

	"github.com/versement/versement/internal/lang"
)

const doc = `{"format":"versement-dossier/1","class":"etudiant","key":4,"tables":[
{"name":"INDIVIDU","columns":["COD_IND","LIB_NOM_PAT_IND","LIB_PR1_IND","DATE_NAI_IND","DAT_CRE_IND","LIB_CMT_IND"],
 "types":["integer","text","text","date","timestamp-local","text"],"rows":[
[4,"LE BRETON",{"invalid_utf8_base64":"UmVu6WU=","approx":"Ren\ufffde"},"1973-11-26","1991-09-08T15:37:39",null]]},
{"name":"RESULTAT_VET","columns":["COD_IND","COD_ANU","NOT_VET"],"types":["integer","text","decimal"],"rows":[
[4,"1991","13.640"],[4,"1992","<b>9.5</b>"]]},
{"name":"PHO_ETU","columns":["COD_IND","PHO_ETU"],"types":["integer","binary"],"rows":[
[4,{"object":"D000001-4.PHO_ETU.PHO_ETU.1.jpg","size":3}]]},
{"name":"THESE_HDR_SOUT","absent":true,"columns":[],"types":[],"rows":[]},
{"name":"ADRESSE","columns":["COD_ADR"],"types":["integer"],"rows":[]}
]}`

const dict = `{"format":"versement-dictionary/1","tables":[{"name":"INDIVIDU","comment":"Individu (étudiant)","columns":[
{"name":"LIB_NOM_PAT_IND","meaning":"Nom de naissance (patronymique)"},{"name":"DATE_NAI_IND","meaning":"Date de naissance"}]},
{"name":"RESULTAT_VET","comment":"Résultats aux étapes","columns":[{"name":"NOT_VET","meaning":"Note"}]}]}`

func build(t *testing.T, verified bool) *Fiche {
	t.Helper()
	f, err := Build(strings.NewReader(doc), strings.NewReader(dict), Context{Profile: "apogee", Class: "etudiant", Tier: "intermediate", Key: "4",
		Rule: "APP-APO-IA", FinalAction: "Keep", RuleStart: "2025-08-31", DUAEnd: "2035-08-31", AccessRule: "ACC-PERS-50", AccessStart: "2022-08-31", AccessEnd: "2072-08-31",
		SIP: "apogee-etudiant-intermediate-x.zip", SIPDigest: "ab", Target: "dir://archives", Identifiers: []string{"COD_ETU:21001234"}},
		"Dossier étudiant LE BRETON Renée (21001234)",
		[]Object{{Name: "D000001-4.json", MIME: "application/json", Size: 100, Algorithm: "SHA-256", Digest: "cd", Verified: true},
			{Name: "D000001-4.PHO_ETU.PHO_ETU.1.jpg", MIME: "image/jpeg", Size: 3, Algorithm: "SHA-256", Digest: "ef", Verified: verified, Data: []byte{0xff, 0xd8, 0xff}}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPageInFrench(t *testing.T) {
	var b bytes.Buffer
	if err := build(t, true).WritePage(&b, lang.French, "Édité le 04/12/2026 par agent1"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<html lang="fr">`, "<h2>Individu (étudiant)</h2>", "<th>Nom de naissance (patronymique)</th><td>LE BRETON</td>",
		"<th>Date de naissance</th><td>26/11/1973</td>", "<td>08/09/1991 15:37</td>", "<td>—</td>",
		"Ren\ufffde <span class=\"empty\">(octets non UTF-8 remplacés par �)</span>",
		"<th>Note</th>", "<td>13,640</td>", "<td>&lt;b&gt;9,5&lt;/b&gt;</td>", // data is text, never markup
		`<img class="photo" alt="Photo" src="data:image/jpeg;base64,/9j/">`,
		"<p class=\"empty\">absente de la base</p>", "<p class=\"empty\">aucune ligne</p>",
		"<td id=\"tier\">archivage intermédiaire</td>",
		"APP-APO-IA, à compter du 31/08/2025, fin de la DUA le 31/08/2035; sort final : conservation",
		"ACC-PERS-50, à compter du 31/08/2022, communicable le 31/08/2072",
		"2 objets sur 2 lus et vérifiés", "<footer>Édité le 04/12/2026 par agent1</footer>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script") {
		t.Error("the page refers to another origin or runs a script")
	}
}

// A photo is shown only once its bytes matched the manifest.
func TestUnverifiedImageIsNotShown(t *testing.T) {
	h, err := build(t, false).Fragment(lang.English)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h), "<img") || !strings.Contains(string(h), "object D000001-4.PHO_ETU.PHO_ETU.1.jpg (3 bytes)") {
		t.Errorf("fragment: %s", h)
	}
	if !strings.Contains(string(h), "1 of 2 objects read and checked") || strings.Contains(string(h), "<html") {
		t.Errorf("fragment: %s", h)
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := build(t, true).WriteText(&b, lang.French); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Contexte d'archivage", "archivage intermédiaire", "Date de naissance", "26/11/1973", "COD_ANU  NOT_VET", "1992     <b>9,5</b>", "Résultats aux étapes (RESULTAT_VET)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestBadDocuments(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"format":"other/1","tables":[]}`, `fiche: the dossier document is "other/1", not a versement-dossier document`},
		{`{"format":"versement-dossier/1","tables":[{"name":"T","columns":["A","B"],"rows":[[1]]}]}`, "fiche: table T, row 1: 1 values for 2 columns"},
		{`{"format":"versement-dossier/1","tables":[{"name":"T","columns":["A"],"rows":[[{"x":1}]]}]}`, "fiche: table T, row 1, column A: an object that is neither a LOB nor invalid text"},
		{`{"format":"versement-dossier/1","tables":[{"name":"T","columns":["A"],"rows":[[[1]]]}]}`, "fiche: table T, row 1, column A: not a value: [1]"},
		{`{"format":`, "fiche: the dossier document: unexpected EOF"},
	} {
		_, err := Build(strings.NewReader(tc.doc), nil, Context{}, "t", nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Build(%s) = %v, want %s", tc.doc, err, tc.want)
		}
	}
}
