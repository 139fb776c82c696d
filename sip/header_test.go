package sip

import (
	"reflect"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/seda"
)

func TestSEDAMapping(t *testing.T) {
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	h := Header(p, "apogee-etudiant-final-1-400", date)
	want := seda.Header{Version: seda.V22, MessageIdentifier: "apogee-etudiant-final-1-400", Date: date,
		ArchivalAgreement: "IC-APOGEE-000001", ArchivalAgency: "FRAD000", TransferringAgency: "ETAB-SCOL",
		LegalStatus: "Public Archive", OriginatingAgencyIdentifier: "ETAB-SCOL", SubmissionAgencyIdentifier: "ETAB-DSI",
		DigestAlgorithm: seda.SHA256}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("header = %+v\nwant %+v", h, want)
	}
	d := profiles.Description{Title: "Dossier étudiant X Y (1)", Description: "d", StartDate: civil.Date{Year: 2015, Month: 9, Day: 1},
		Keywords: []profiles.RenderedKeyword{{Type: "persname", Content: "X Y"}}}
	c := Content(p, "1", d)
	if c.DescriptionLevel != "File" || c.Title != d.Title || c.OriginatingSystemID[0] != "1" || c.StartDate != d.StartDate ||
		len(c.Keywords) != 1 || c.Keywords[0] != (seda.Keyword{Content: "X Y", Type: "persname"}) {
		t.Errorf("content = %+v", c)
	}
	s := Series(p, &p.Classes[0], "final")
	if s.DescriptionLevel != "Series" || s.Title != p.Classes[0].Description+" (final)" {
		t.Errorf("series = %+v", s)
	}
}
