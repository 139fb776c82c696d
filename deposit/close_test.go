package deposit

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

func unitDoc(class string, key int, object string) string {
	photo := "null"
	if object != "" {
		photo = `{"object":"` + object + `","size":3}`
	}
	return `{"format":"versement-dossier/1","class":"` + class + `","key":` + itoa(key) + `,"tables":[` +
		`{"name":"INDIVIDU","columns":["COD_IND","PHOTO"],"types":["integer","binary"],"rows":[[` + itoa(key) + `,` + photo + `]]}]}`
}

func itoa(i int) string { return strconv.Itoa(i) }

// refService is a service whose establishment has its own agencies and contract, and a profile
// "broken" whose class names a rule its schedule lacks.
func refService(t *testing.T) *Service {
	t.Helper()
	s, err := Open(context.Background(), Config{Establishment: "univ-a", Dir: t.TempDir(),
		OriginatingAgency: "UNIV-A", SubmissionAgency: "UNIV-A-SCOL", ArchivalAgreement: "IC-UNIV-A",
		Profile: func(name string) (*profiles.Profile, error) {
			if name == "broken" {
				p, err := profiles.Builtin("apogee")
				p.Classes[0].Rule = "NO-SUCH-RULE"
				return p, err
			}
			return profiles.Builtin(name)
		},
		Job:     func(*profiles.Profile) pipeline.JobSpec { return pipeline.JobSpec{} },
		Enqueue: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCloseReferentialErrors(t *testing.T) {
	ctx := context.Background()
	s := refService(t)
	p, _ := profiles.Builtin("apogee")
	var classes []string
	for _, c := range p.Classes {
		classes = append(classes, c.Name)
	}
	for _, tc := range []struct {
		name       string
		h          Header
		units      string
		upload     []byte // photo.jpg's bytes, when uploaded; a nil keeps it absent
		partial    bool
		kind       ErrorKind
		field, msg string
	}{
		{"profile", Header{Profile: "nope", Class: "etudiant"}, unitDoc("etudiant", 1, ""), nil, false,
			Unprocessable, "header.profile", `establishment univ-a has no profile "nope"`},
		{"class", Header{Profile: "apogee", Class: "nope"}, unitDoc("nope", 1, ""), nil, false,
			Unprocessable, "header.class", `profile apogee has no class "nope" (its classes: ` + strings.Join(classes, ", ") + `)`},
		{"rule", Header{Profile: "broken", Class: "etudiant"}, unitDoc("etudiant", 1, ""), nil, false,
			Unprocessable, "header.class", "class etudiant's retention rule NO-SUCH-RULE is not in the schedule " + p.Schedule().Name},
		{"originating agency", Header{Profile: "apogee", Class: "etudiant", OriginatingAgency: "UNIV-B"}, unitDoc("etudiant", 1, ""), nil, false,
			Unprocessable, "header.originating_agency", `agency or contract "UNIV-B" is not establishment univ-a's ("UNIV-A")`},
		{"submission agency", Header{Profile: "apogee", Class: "etudiant", SubmissionAgency: "UNIV-B"}, unitDoc("etudiant", 1, ""), nil, false,
			Unprocessable, "header.submission_agency", `agency or contract "UNIV-B" is not establishment univ-a's ("UNIV-A-SCOL")`},
		{"contract", Header{Profile: "apogee", Class: "etudiant", ArchivalAgreement: "IC-UNIV-B"}, unitDoc("etudiant", 1, ""), nil, false,
			Unprocessable, "header.archival_agreement", `agency or contract "IC-UNIV-B" is not establishment univ-a's ("IC-UNIV-A")`},
		{"another class", Header{Profile: "apogee", Class: "etudiant"}, unitDoc("etudiant", 1, "") + "\n" + unitDoc("agent", 2, ""), nil, false,
			Unprocessable, "units[1].class", `a dossier of class "agent" in a transaction of class "etudiant"`},
		{"object missing", Header{Profile: "apogee", Class: "etudiant"}, unitDoc("etudiant", 1, "photo.jpg"), nil, false,
			Unprocessable, "objects/photo.jpg", "named by units[0] but not uploaded"},
		{"object incomplete", Header{Profile: "apogee", Class: "etudiant"}, unitDoc("etudiant", 1, "photo.jpg"), []byte("abc"), true,
			Unprocessable, "objects/photo.jpg", "named by units[0] but incomplete: 1 of 3 bytes received"},
		{"object named by no unit", Header{Profile: "apogee", Class: "etudiant"}, unitDoc("etudiant", 1, ""), []byte("abc"), false,
			Unprocessable, "objects/photo.jpg", `uploaded but named by no unit: it would not be archived (name it in a dossier's document, as {"object": "photo.jpg"})`},
		{"root table", Header{Profile: "apogee", Class: "etudiant"}, strings.Replace(unitDoc("etudiant", 1, ""), `"INDIVIDU"`, `"IND_BAC"`, 1), nil, false,
			Unprocessable, "units[0].tables[0]", "the first table is IND_BAC, not class etudiant's root table " + p.Class("etudiant").Root.Table},
		{"unknown table", Header{Profile: "apogee", Class: "etudiant"}, strings.Replace(unitDoc("etudiant", 1, ""), `]]}]}`, `]]},{"name":"NOPE","columns":[],"types":[],"rows":[]}]}`, 1), nil, false,
			Unprocessable, "units[0].tables[1]", "table NOPE is not one of class etudiant's (" + tableNames(p) + ")"},
		{"no units", Header{Profile: "apogee", Class: "etudiant"}, "", nil, false,
			Unprocessable, "units", "the transaction holds no units"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := s.Create(ctx, tc.h, "client")
			if err != nil {
				t.Fatal(err)
			}
			if tc.units != "" {
				if _, err := s.AddUnits(ctx, tx.ID, strings.NewReader(tc.units), "client"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.upload != nil {
				n := len(tc.upload)
				if tc.partial {
					n = 1
				}
				c, r := chunkOf("photo.jpg", tc.upload, 0, n)
				if err := s.put(c, r, tx.ID); err != nil {
					t.Fatal(err)
				}
			}
			_, err = s.Close(ctx, tx.ID, "client")
			wantError(t, err, tc.kind, tc.field, tc.msg)
			if got, _ := s.Get(ctx, tx.ID); got.State != StateOpen {
				t.Errorf("state %s after a refused close, want open", got.State)
			}
		})
	}
}

func TestAddUnits(t *testing.T) {
	ctx := context.Background()
	s := refService(t)
	s.lim.MaxUnitBytes = 4096
	tx, err := s.Create(ctx, Header{Profile: "apogee", Class: "etudiant", Reference: "R-1"}, "client")
	if err != nil {
		t.Fatal(err)
	}
	// The same reference: the same transaction.
	if again, err := s.Create(ctx, Header{Profile: "apogee", Class: "etudiant", Reference: "R-1"}, "client"); err != nil || again.ID != tx.ID {
		t.Fatalf("second create with the reference: %v %v, want %s", again.ID, err, tx.ID)
	}
	// A JSON array.
	n, err := s.AddUnits(ctx, tx.ID, strings.NewReader("["+unitDoc("etudiant", 1, "")+","+unitDoc("etudiant", 2, "")+"]"), "client")
	if err != nil || n != 2 {
		t.Fatalf("array: %d %v", n, err)
	}
	// A retried call adds nothing; the same key with another document is a conflict.
	if n, err := s.AddUnits(ctx, tx.ID, strings.NewReader(unitDoc("etudiant", 1, "")), "client"); err != nil || n != 0 {
		t.Fatalf("retry: %d %v", n, err)
	}
	_, err = s.AddUnits(ctx, tx.ID, strings.NewReader(unitDoc("etudiant", 3, "")+"\n"+unitDoc("etudiant", 1, "x.jpg")), "client")
	wantError(t, err, Conflict, "units[1].key", `key "1" is already in the transaction with another document`)
	// All or nothing: unit 3 of the refused call is not in.
	if got, _ := s.Get(ctx, tx.ID); got.Units != 2 {
		t.Errorf("%d units after a refused call, want 2", got.Units)
	}
	_, err = s.AddUnits(ctx, tx.ID, strings.NewReader(`{"format":"versement-dossier/1","class":"etudiant","key":4,"tables":[]}`), "client")
	wantError(t, err, Invalid, "units[0]", "dossier document: no table")
	_, err = s.AddUnits(ctx, tx.ID, strings.NewReader(unitDoc("etudiant", 5, "")+"\n{nope"), "client")
	wantError(t, err, Invalid, "units[1]", "not JSON: invalid character 'n' looking for beginning of object key string")
	_, err = s.AddUnits(ctx, tx.ID, strings.NewReader(`{"format":"versement-dossier/1","pad":"`+strings.Repeat("x", 200_000)+`"}`), "client")
	wantError(t, err, TooLarge, "units[0]", "a document larger than 4096 bytes")
	_, err = s.AddUnits(ctx, tx.ID, strings.NewReader(unitDoc("etudiant", 6, "../x")), "client")
	wantError(t, err, Invalid, "units[0].tables[0].rows[0][1]", `object name "../x" refused: a path separator ('/' or '\'): give the file's name only`)
	// The journal holds the create and the one successful call, by whom.
	var got []string
	a, err := VerifyJournal(ctx, s.cfg.Dir, func(e Event) { got = append(got, e.Event+":"+e.By+":"+itoa(e.Units)) })
	if err != nil || !a.OK() {
		t.Fatalf("journal: %+v %v", a, err)
	}
	if strings.Join(got, ",") != "create:client:0,units-added:client:2" {
		t.Errorf("journal %v", got)
	}
}

func tableNames(p *profiles.Profile) string {
	c := p.Class("etudiant")
	names := []string{c.Root.Table}
	for _, ch := range c.Children {
		names = append(names, ch.Table)
	}
	return strings.Join(names, ", ")
}
