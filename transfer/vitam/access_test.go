package vitam_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/retention"
	"github.com/versement/versement/seda"
	sipb "github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// apogeeSIP writes a SIP with the pipeline's own builder and the built-in apogee profile: a
// series unit, then dossier 42 (its JSON document and a photo, BinaryMaster_1 and _2 of one
// group) and dossier 43 (its document only), each with OriginatingSystemId = its key and
// OriginatingAgencyArchiveUnitIdentifier COD_ETU:…, as a run writes them. It returns the SIP and
// its objects' bytes by file name.
func apogeeSIP(t *testing.T) (transfer.SIP, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	p, err := profiles.Builtin("apogee")
	if err != nil {
		t.Fatal(err)
	}
	photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 3000)...)
	dossier := func(key int64, withPhoto bool) *extract.Dossier {
		cols := []extract.Column{{Name: "COD_IND"}, {Name: "COD_ETU"}}
		row := []extract.Value{key, 20000000 + key}
		if withPhoto {
			cols = append(cols, extract.Column{Name: "PHOTO"})
			row = append(row, &extract.LOB{Table: "INDIVIDU", Column: "PHOTO", Size: int64(len(photo)), Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(photo)), nil
			}})
		}
		return &extract.Dossier{Class: "etudiant", Key: key, Tables: []extract.TableRows{{Table: "INDIVIDU", Columns: cols, Rows: [][]extract.Value{row}}}}
	}
	path := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := civil.Parse("2026-06-30")
	b, err := sipb.NewBuilder(f, sipb.Spec{Profile: p, Class: &p.Classes[0], Tier: retention.Intermediate, AsOf: asOf, Dictionary: []byte(`{"dictionary":1}`), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dec := retention.Decision{Tier: retention.Intermediate}
	for _, d := range []struct {
		key   string
		data  *extract.Dossier
		codEt string
	}{{"42", dossier(42, true), "20000042"}, {"43", dossier(43, false), "20000043"}} {
		desc := profiles.Description{Title: "Dossier étudiant " + d.codEt, Identifiers: []profiles.Identifier{{Name: "COD_ETU", Value: d.codEt}}}
		if _, err := b.Cost(ctx, sipb.Dossier{Data: d.data, Key: d.key, Decision: dec}); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ctx, sipb.Dossier{Data: d.data, Key: d.key, Decision: dec, Description: desc}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	objects := map[string][]byte{}
	for _, e := range zr.File {
		if name, ok := strings.CutPrefix(e.Name, "Content/"); ok {
			objects[name] = readZipEntry(t, e)
		}
	}
	return transfer.SIP{Name: rec.Name, Path: path, MessageID: rec.MessageID, ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: rec.ManifestDigest}}, objects
}

func readZipEntry(t *testing.T, e *zip.File) []byte {
	t.Helper()
	rc, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scolarite is the contract of the university's records office: the apogee profile's
// originating agency, BinaryMaster objects.
var scolarite = vitamtest.AccessContract{Identifier: "AC-SCOL", OriginatingAgencies: []string{"ETAB-SCOL"}, DataObjectVersion: []string{"BinaryMaster"}}

func accessClient(t *testing.T, s *vitamtest.Server, client vitamtest.Client, query string) *vitam.Access {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	cfg := &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	c, err := vitam.ParseURL("vitam+https://" + s.Host() + "?tenant=2&admin=" + s.AdminURL() + query)
	if err != nil {
		t.Fatal(err)
	}
	a, err := vitam.NewAccess(c, vitam.Options{PollInterval: 5 * time.Millisecond}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// ingested starts the faithful server with contracts on tenant 2 and ingests the apogee SIP.
func ingested(t *testing.T, contracts ...vitamtest.AccessContract) (*vitamtest.Server, vitamtest.Client, map[string][]byte) {
	t.Helper()
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	for _, c := range contracts {
		s.AddAccessContract(2, c)
	}
	sipFile, objects := apogeeSIP(t)
	if r, err := target(t, s, client, "", vitam.Options{}).Put(context.Background(), sipFile); err != nil || r.ReplyCode != "OK" {
		t.Fatalf("ingest: %+v %v", r, err)
	}
	return s, client, objects
}

// The whole way back: a dossier found by its key and by its COD_ETU, exported as a DIP whose
// objects are the SIP's bytes, over mutual TLS, each request carrying the DSL and contract the
// server checked.
func TestFindUnitAndExportDIP(t *testing.T) {
	ctx := context.Background()
	s, client, sipObjects := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-SCOL&application-id=consult-1")

	byKey, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "43"})
	if err != nil {
		t.Fatal(err)
	}
	byCode, err := a.FindUnits(ctx, vitam.UnitQuery{Identifiers: []string{"COD_ETU:20000043"}, OriginatingAgency: "ETAB-SCOL", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(byKey) != 1 || len(byCode) != 1 || byKey[0].SystemID != byCode[0].SystemID {
		t.Fatalf("by key %+v, by COD_ETU %+v: want the same single unit", byKey, byCode)
	}
	u := byKey[0]
	ids := s.UnitSystemIDs(u.Operation)
	if len(ids) != 3 || !strings.HasPrefix(u.SystemID, "aeaq") || u.ObjectGroup == "" || u.Title != "Dossier étudiant 20000043" ||
		u.OriginatingAgency != "ETAB-SCOL" || strings.Join(u.OriginatingSystemID, ",") != "43" || strings.Join(u.Identifiers, ",") != "COD_ETU:20000043" {
		t.Errorf("unit %+v; SystemIds of the ingest %v", u, ids)
	}

	reqs := s.AccessRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests to access-external, want 2", len(reqs))
	}
	const projection = `"$projection":{"$fields":{"#id":1,"#management":1,"#object":1,"#opi":1,"#originating_agency":1,"EndDate":1,"OriginatingAgencyArchiveUnitIdentifier":1,"OriginatingSystemId":1,"StartDate":1,"Title":1}}}`
	for i, want := range []string{
		`{"$roots":[],"$query":[{"$eq":{"OriginatingSystemId":"43"}}],"$filter":{"$limit":100},` + projection,
		`{"$roots":[],"$query":[{"$and":[{"$eq":{"OriginatingAgencyArchiveUnitIdentifier":"COD_ETU:20000043"}},{"$eq":{"#originating_agency":"ETAB-SCOL"}}]}],"$filter":{"$limit":5},` + projection,
	} {
		r := reqs[i]
		if string(r.Body) != want {
			t.Errorf("search %d body\n%s\nwant\n%s", i, r.Body, want)
		}
		for k, v := range map[string]string{"X-Tenant-Id": "2", "X-Access-Contract-Id": "AC-SCOL", "X-Application-Id": "consult-1",
			"X-Http-Method-Override": "GET", "Content-Type": "application/json", "Accept": "application/json"} {
			if r.Header.Get(k) != v {
				t.Errorf("search %d: %s = %q, want %q", i, k, r.Header.Get(k), v)
			}
		}
		if r.Method != "POST" || r.Path != "/access-external/v1/units" {
			t.Errorf("search %d: %s %s", i, r.Method, r.Path)
		}
	}

	photoUnit, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := a.ExportDIP(ctx, []string{u.SystemID, photoUnit[0].SystemID})
	if err != nil {
		t.Fatal(err)
	}
	reqs = s.AccessRequests()
	exp := reqs[3]
	if want := `{"$roots":[],"$query":[{"$in":{"#id":["` + u.SystemID + `","` + photoUnit[0].SystemID + `"]}}],"$projection":{}}`; string(exp.Body) != want || exp.Path != "/access-external/v1/dipexport" || exp.Header.Get("X-Access-Contract-Id") != "AC-SCOL" || exp.Header.Get("X-Http-Method-Override") != "" {
		t.Errorf("DIP export %s %s %q\n%s\nwant\n%s", exp.Method, exp.Path, exp.Header.Get("X-Access-Contract-Id"), exp.Body, want)
	}

	rc, err := a.DIP(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	dipPath := filepath.Join(t.TempDir(), "dip.zip")
	f, _ := os.Create(dipPath)
	n, err := io.Copy(f, rc)
	rc.Close()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(dipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	for _, e := range zr.File {
		entries[e.Name] = e
	}
	mf := entries["manifest.xml"]
	if mf == nil {
		t.Fatalf("DIP (%d bytes) without manifest.xml", n)
	}
	m, err := vitam.ReadDIPManifest(bytes.NewReader(readZipEntry(t, mf)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Units) != 2 || m.Units[0].SystemID != u.SystemID && m.Units[1].SystemID != u.SystemID || m.OriginatingAgency != "ETAB-SCOL" {
		t.Errorf("DIP units %+v, agency %q", m.Units, m.OriginatingAgency)
	}
	// VITAM exports the last version of each usage: dossier 42's photo (BinaryMaster_2) stands
	// for its group, whose JSON document (BinaryMaster_1) is not in the DIP.
	var got []string
	for _, o := range m.Objects {
		e := entries[o.URI]
		if e == nil {
			t.Fatalf("object %s: no %s in the DIP", o.ID, o.URI)
		}
		data := readZipEntry(t, e)
		want, ok := sipObjects[o.Filename]
		if !ok || !bytes.Equal(data, want) {
			t.Errorf("object %s (%s): %d bytes, not the SIP's %s (%d bytes)", o.ID, o.URI, len(data), o.Filename, len(want))
		}
		sum := sha512.Sum512(data)
		if o.DigestAlgorithm != "SHA-512" || o.Digest != hex.EncodeToString(sum[:]) || o.Size != int64(len(data)) {
			t.Errorf("object %s: digest %s %s size %d", o.ID, o.DigestAlgorithm, o.Digest, o.Size)
		}
		got = append(got, o.Version+" "+o.Filename)
	}
	if strings.Join(got, "; ") != "BinaryMaster_1 D000002-43.json; BinaryMaster_2 D000001-42.INDIVIDU.PHOTO.1.jpg" &&
		strings.Join(got, "; ") != "BinaryMaster_2 D000001-42.INDIVIDU.PHOTO.1.jpg; BinaryMaster_1 D000002-43.json" {
		t.Errorf("DIP objects: %v (SIP has %v)", got, keys(sipObjects))
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestAccessNeedsAContract(t *testing.T) {
	c, err := vitam.ParseURL("vitam+https://vitam.example.org:8443?tenant=3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = vitam.NewAccess(c, vitam.Options{}, &tls.Config{})
	want := "VITAM access vitam+https://vitam.example.org:8443?tenant=3: add access-contract=IDENTIFIER: VITAM's access-external answers only under an access contract (X-Access-Contract-Id) that the context of this application's certificate allows on tenant 3"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestUnknownContractIsRefused(t *testing.T) {
	s, client, _ := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-OTHER")
	_, err := a.FindUnits(context.Background(), vitam.UnitQuery{OriginatingSystemID: "43"})
	if !errors.Is(err, vitam.ErrAccessDenied) || transfer.IsTransient(err) {
		t.Fatalf("want ErrAccessDenied, got %v", err)
	}
	rid := s.AccessRequests()
	if len(rid) != 1 {
		t.Fatal(rid)
	}
	want := `VITAM search at ` + s.AdminURL() + `: VITAM refused the access contract "AC-OTHER" on tenant 2 (401 Unauthorized, request aeeaaaaaac` +
		`): VITAM says "Access contract AC-OTHER not found in the context for the tenant id :2" (code 000700, context {"Name":"vitamtest","Role":"access-external","ServerId":1,"SiteId":1,"GlobalPlatformId":1}, state INTERNAL_SECURITY_UNAUTHORIZED, message Internal Security Filter Unauthorized): check that the contract exists, is ACTIVE and is in the context of this application's certificate`
	// The request id is the server's: cut it out before comparing.
	msg := err.Error()
	if i := strings.Index(msg, "request aeeaaaaaac"); i >= 0 {
		msg = msg[:i+len("request aeeaaaaaac")] + msg[i+len("request aeeaaaaaac")+26:]
	}
	if msg != want {
		t.Errorf("got\n%s\nwant\n%s", msg, want)
	}
}

// A contract for another producer sees nothing, as VITAM filters, and says so without the query.
func TestContractExcludingTheAgencyFindsNothing(t *testing.T) {
	s, client, _ := ingested(t, scolarite, vitamtest.AccessContract{Identifier: "AC-DRH", OriginatingAgencies: []string{"ETAB-DRH"}, EveryDataObjectVersion: true})
	a := accessClient(t, s, client, "&access-contract=AC-DRH")
	_, err := a.FindUnits(context.Background(), vitam.UnitQuery{Identifiers: []string{"COD_ETU:20000043"}})
	if !errors.Is(err, transfer.ErrNotExist) {
		t.Fatalf("want ErrNotExist, got %v", err)
	}
	msg := err.Error()
	want := `VITAM tenant 2, access contract "AC-DRH": not at the target: no archive unit matches (VITAM shows only the units of the originating agencies the contract allows) (request aeeaaaaaac`
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "20000043") {
		t.Errorf("got\n%s\nwant a message starting\n%s\nwithout the searched value", msg, want)
	}
	// The units are there for the contract that shows them: the filter, not the data, hid them.
	if us, err := accessClient(t, s, client, "&access-contract=AC-SCOL").FindUnits(context.Background(), vitam.UnitQuery{Identifiers: []string{"COD_ETU:20000043"}}); err != nil || len(us) != 1 {
		t.Errorf("AC-SCOL: %v %v", us, err)
	}
}

func TestDIPOfAnUnknownOperation(t *testing.T) {
	s, client, _ := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	_, err := a.DIP(context.Background(), "aeeaaaaaacnotanoperation0000000000")
	if !errors.Is(err, transfer.ErrNotExist) || !strings.Contains(err.Error(), "VITAM DIP of operation aeeaaaaaacnotanoperation0000000000: not at the target: VITAM has no DIP for it (not finished, failed, or purged)") {
		t.Fatalf("got %v", err)
	}
}

func TestDIPLargerThanTheCapFails(t *testing.T) {
	ctx := context.Background()
	s, client, _ := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "43"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := a.ExportDIP(ctx, []string{us[0].SystemID})
	if err != nil {
		t.Fatal(err)
	}
	a.MaxDIP = 100
	_, err = a.DIP(ctx, op)
	if err == nil || !strings.Contains(err.Error(), "bytes, more than the 100 allowed") {
		t.Fatalf("got %v", err)
	}
}

// A unit's own rules come back from #management, read from the SIP's Management.
func TestFoundUnitCarriesItsRules(t *testing.T) {
	ctx := context.Background()
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.AddAccessContract(2, vitamtest.AccessContract{Identifier: "AC-ALL", EveryOriginatingAgency: true, EveryDataObjectVersion: true})
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, _ := os.Create(p)
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: "M-RULES", Date: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ArchivalAgreement: "IC-000001", ArchivalAgency: "AD-TEST", TransferringAgency: "UNIV-TEST", OriginatingAgencyIdentifier: "UNIV-SCOL"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	start, _ := civil.Parse("2020-08-31")
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "D7", OriginatingSystemID: []string{"7"}},
		Management: seda.Management{Appraisal: &seda.AppraisalRule{RuleGroup: seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "APP-APO-IA", StartDate: start}}}, FinalAction: seda.AppraisalKeep},
			Access: &seda.RuleGroup{Rules: []seda.RuleRef{{Rule: "ACC-PERS-50", StartDate: start}}}}}); err != nil {
		t.Fatal(err)
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := target(t, s, client, "", vitam.Options{}).Put(ctx, transfer.SIP{Name: "sip.zip", Path: p, MessageID: "M-RULES", ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sum.ManifestSHA512}}); err != nil {
		t.Fatal(err)
	}
	us, err := accessClient(t, s, client, "&access-contract=AC-ALL").FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "7"})
	if err != nil {
		t.Fatal(err)
	}
	u := us[0]
	app, acc := u.Rules["AppraisalRule"], u.Rules["AccessRule"]
	if u.ObjectGroup != "" || u.OriginatingAgency != "UNIV-SCOL" || app.FinalAction != "Keep" || len(app.Rules) != 1 || app.Rules[0] != (vitam.Rule{Rule: "APP-APO-IA", StartDate: "2020-08-31"}) ||
		len(acc.Rules) != 1 || acc.Rules[0].Rule != "ACC-PERS-50" {
		t.Errorf("unit %+v", u)
	}
	// A DIP of a unit without objects: VITAM's WARNING, still a DIP, with its manifest only.
	a := accessClient(t, s, client, "&access-contract=AC-ALL")
	op, err := a.ExportDIP(ctx, []string{u.SystemID})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := a.DIP(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "manifest.xml" {
		t.Fatalf("DIP %v %v", zr, err)
	}
}

// A DIP of units the contract does not show: the export ends KO and says where to look.
func TestDIPOfUnitsOutsideTheContractEndsKO(t *testing.T) {
	ctx := context.Background()
	s, client, _ := ingested(t, scolarite, vitamtest.AccessContract{Identifier: "AC-DRH", OriginatingAgencies: []string{"ETAB-DRH"}})
	us, err := accessClient(t, s, client, "&access-contract=AC-SCOL").FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "43"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := accessClient(t, s, client, "&access-contract=AC-DRH").ExportDIP(ctx, []string{us[0].SystemID})
	want := "VITAM DIP export operation " + op + " ended COMPLETED/KO: its logbook says why (GET /access-external/v1/logbookoperations/" + op + ")"
	if op == "" || err == nil || err.Error() != want {
		t.Fatalf("got %q %v\nwant %s", op, err, want)
	}
}

func TestEmptyQueryIsRefusedBeforeSending(t *testing.T) {
	s, client, _ := ingested(t, scolarite)
	_, err := accessClient(t, s, client, "&access-contract=AC-SCOL").FindUnits(context.Background(), vitam.UnitQuery{OriginatingAgency: "ETAB-SCOL"})
	if err == nil || err.Error() != "VITAM search: give an OriginatingSystemId or an identifier: VITAM would return every unit the contract shows" || len(s.AccessRequests()) != 0 {
		t.Fatalf("got %v, %d requests", err, len(s.AccessRequests()))
	}
}

// OpenAccess takes the certificate from the environment, as Open does for ingest; the URL is read
// first, so that a missing contract is said before any file is looked for.
func TestOpenAccessFromTheEnvironment(t *testing.T) {
	s, client, _ := ingested(t, scolarite)
	t.Setenv(vitam.EnvCert, "")
	if _, err := vitam.OpenAccess(context.Background(), s.TargetURL(""), vitam.Options{}); err == nil || !strings.Contains(err.Error(), "add access-contract=IDENTIFIER") {
		t.Fatalf("got %v", err)
	}
	client.SetEnv(t, s)
	a, err := vitam.OpenAccess(context.Background(), strings.Replace(s.TargetURL("&access-contract=AC-SCOL"), "tenant=1", "tenant=2", 1), vitam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if us, err := a.FindUnits(context.Background(), vitam.UnitQuery{OriginatingSystemID: "42"}); err != nil || len(us) != 1 || us[0].ObjectGroup == "" {
		t.Fatalf("%+v %v", us, err)
	}
}

// The document a DIP leaves out (BinaryMaster_1 beside the photo's BinaryMaster_2) is reached by
// the unit's binary download, byte for byte; a usage the contract does not allow is refused, a
// version the group lacks is not found.
func TestObjectReachesEveryVersion(t *testing.T) {
	ctx := context.Background()
	s, client, sipObjects := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	for v, name := range map[int]string{1: "D000001-42.json", 2: "D000001-42.INDIVIDU.PHOTO.1.jpg"} {
		rc, info, err := a.Object(ctx, us[0].SystemID, "BinaryMaster", v)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, sipObjects[name]) || info.Filename != name || info.Size != int64(len(b)) {
			t.Errorf("BinaryMaster_%d: %d bytes, %+v, %v; want the SIP's %s (%d bytes)", v, len(b), info, err, name, len(sipObjects[name]))
		}
	}
	r := s.AccessRequests()[1]
	if r.Header.Get("X-Qualifier") != "BinaryMaster" || r.Header.Get("X-Version") != "1" && r.Header.Get("X-Version") != "2" || r.Header.Get("Accept") != "application/octet-stream" || r.Header.Get("X-Access-Contract-Id") != "AC-SCOL" {
		t.Errorf("object request headers %v", r.Header)
	}
	_, _, err = a.Object(ctx, us[0].SystemID, "Dissemination", 1)
	if !errors.Is(err, vitam.ErrAccessDenied) || !strings.Contains(err.Error(), `VITAM says "Qualifier not allowed"`) {
		t.Errorf("Dissemination under AC-SCOL: %v", err)
	}
	_, _, err = a.Object(ctx, us[0].SystemID, "BinaryMaster", 3)
	if !errors.Is(err, transfer.ErrNotExist) || !strings.Contains(err.Error(), "VITAM object BinaryMaster_3 of unit "+us[0].SystemID+" at ") {
		t.Errorf("BinaryMaster_3: %v", err)
	}
	a.MaxObject = 10
	if _, _, err := a.Object(ctx, us[0].SystemID, "BinaryMaster", 1); err == nil || !strings.Contains(err.Error(), "more than the 10 allowed") {
		t.Errorf("capped: %v", err)
	}
}
