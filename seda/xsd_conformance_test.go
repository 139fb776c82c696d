package seda_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
)

// versement's XSD verdict must be xmllint's, over the manifests the writer makes, VITAM's sample
// manifests, and variants with what other producers write (CustodialHistoryItem with text, which
// the pure-Go engine got wrong) or break (an unknown element, an impossible date).
func TestXSDVerdictEqualsXmllint(t *testing.T) {
	xsdDir := testsvc.SharedDir(t, "seda-xsd")
	type doc struct {
		name    string
		version seda.Version
		xml     []byte
	}
	var docs []doc
	chi := `<CustodialHistory><CustodialHistoryItem when="2020-01-01">Versé par la DSI en 2020</CustodialHistoryItem><CustodialHistoryItem>sans date</CustodialHistoryItem></CustodialHistory>`
	for _, v := range []seda.Version{seda.V21, seda.V22, seda.V23} {
		p, _ := writeSIP(t, v, 3)
		m := readManifest(t, p)
		docs = append(docs, doc{"writer-" + string(v), v, m})
		withCHI := bytes.Replace(m, []byte("</Description>"), []byte("</Description>"+chi), 1)
		docs = append(docs, doc{"custodial-history-" + string(v), v, withCHI})
		docs = append(docs, doc{"custodial-history-bad-date-" + string(v), v, bytes.Replace(withCHI, []byte(`when="2020-01-01"`), []byte(`when="2020-13-45"`), 1)})
		docs = append(docs, doc{"unknown-element-" + string(v), v, bytes.Replace(m, []byte("</Description>"), []byte("</Description><Bogus/>"), 1)})
		docs = append(docs, doc{"custodial-history-child-element-" + string(v), v, bytes.Replace(m, []byte("</Description>"), []byte(`</Description><CustodialHistory><CustodialHistoryItem><b>x</b></CustodialHistoryItem></CustodialHistory>`), 1)})
	}
	samples := testsvc.SharedDir(t, "samples", "vitam")
	for dir, v := range map[string]seda.Version{"vitam-2.1-3_UNITS_2_GOTS": seda.V21, "vitam-2.1ext-SIP_OK_HoldRules": seda.V21, "vitam-2.2-WARNING_SIP_mail_Seda2.2": seda.V22} {
		b, err := os.ReadFile(filepath.Join(samples, dir, "manifest.xml"))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{dir, v, b})
	}
	tmp := t.TempDir()
	valid := 0
	for _, d := range docs {
		f := filepath.Join(tmp, d.name+".xml")
		if err := os.WriteFile(f, d.xml, 0o644); err != nil {
			t.Fatal(err)
		}
		lint := testsvc.XSD(t, string(d.version), f) == nil
		s, err := seda.LoadSchema(xsdDir, d.version)
		if err != nil {
			t.Fatal(err)
		}
		verr := s.Validate(bytes.NewReader(d.xml))
		if ours := verr == nil; ours != lint {
			t.Errorf("%s: xmllint says valid=%v, versement valid=%v (%v)", d.name, lint, ours, verr)
		}
		if lint {
			valid++
		}
		if strings.HasPrefix(d.name, "custodial-history-") && !strings.Contains(d.name, "bad") && !strings.Contains(d.name, "child") && !lint {
			t.Errorf("%s: xmllint refuses the CustodialHistory variant: the test is wrong", d.name)
		}
	}
	if valid < 8 || valid == len(docs) { // 3 writer, 3 with CustodialHistory, 2 of the 3 VITAM samples (HoldRules is not 2.1)
		t.Errorf("%d of %d manifests valid: the set must hold both verdicts", valid, len(docs))
	}
}
