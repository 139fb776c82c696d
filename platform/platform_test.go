package platform

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadTestdata(t *testing.T) *Config {
	t.Helper()
	c, err := Load("testdata/platform.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadResolvesEachEstablishment(t *testing.T) {
	c := loadTestdata(t)
	dir, _ := filepath.Abs("testdata")
	if got := c.IDs(); !slices.Equal(got, []string{"univ-a", "univ-b", "univ-c"}) {
		t.Fatalf("ids %v", got)
	}
	a, ok := c.Establishment("univ-a")
	if !ok {
		t.Fatal("no univ-a")
	}
	// State under state_root, the ledger and access log inside it, targets made absolute.
	if a.State != filepath.Join(dir, "state", "univ-a") || a.Ledger != filepath.Join(a.State, "ledger.jsonl") || a.AccessLog != filepath.Join(a.State, "access-log.jsonl") {
		t.Errorf("univ-a: state %s, ledger %s, access log %s", a.State, a.Ledger, a.AccessLog)
	}
	if a.Targets["intermediate"] != "dir://"+filepath.Join(dir, "archives/univ-a/intermediate") {
		t.Errorf("univ-a targets %v", a.Targets)
	}
	if a.SEDA.SubmissionAgency != "UNIVA-DSI" || a.SEDA.TransferringAgency.Identifier != "UNIVA-SCOL" || a.SEDA.TransferringAgency.Name != "Université A" {
		t.Errorf("univ-a seda %+v", a.SEDA)
	}
	if a.VITAM.Tenant != 1 || !a.VITAM.HasTenant || a.VITAM.ConsultationContract != "AC-UNIV-A-CONSULTATION" || a.VITAM.ArchivesContract != "AC-UNIV-A-ARCHIVES" {
		t.Errorf("univ-a vitam %+v", a.VITAM)
	}
	if got := a.Profiles(); !slices.Equal(got, []string{"apogee", "harpege"}) {
		t.Errorf("univ-a profiles %v", got)
	}
	b, _ := c.Establishment("univ-b")
	if b.State != filepath.Join(dir, "state-b") || b.SEDA.SubmissionAgency != "UNIVB-SCOL" || b.VITAM.ConsultationContract != "AC-B-CONS" || b.VITAM.ArchivesContract != "AC-UNIV-B-ARCHIVES" {
		t.Errorf("univ-b: state %s, seda %+v, vitam %+v", b.State, b.SEDA, b.VITAM)
	}
	cc, _ := c.Establishment("univ-c")
	if cc.VITAM.HasTenant || cc.SEDA.TransferringAgency.Identifier != "UNIVC-ARCH" {
		t.Errorf("univ-c: %+v %+v", cc.VITAM, cc.SEDA)
	}
	if _, ok := c.Establishment("univ-d"); ok {
		t.Error("univ-d found")
	}
}

func TestJobsAreQualifiedAndScopedToTheirEstablishment(t *testing.T) {
	c := loadTestdata(t)
	a, _ := c.Establishment("univ-a")
	n := c.Nightly()
	if !n.Establishments || len(n.Jobs) != 2 {
		t.Fatalf("nightly: %+v", n)
	}
	j := n.Jobs[0]
	if j.Name != "univ-a.apogee-nightly" || j.Establishment != "univ-a" || j.Scope != a || j.Dir != filepath.Join(a.State, "schedule") {
		t.Errorf("job %s of %s in %s", j.Name, j.Establishment, j.Dir)
	}
	// The job inherits the establishment's targets, state and ledger.
	if j.Options.State != a.State || j.Options.Ledger != a.Ledger || j.Options.Targets["final"] != a.Targets["final"] || j.Options.Profile != "apogee" {
		t.Errorf("job options %+v", j.Options)
	}
	if b := n.Jobs[1]; b.Name != "univ-b.apogee-nightly" || b.Options.Targets["final"] != "s3://univ-b/final?endpoint=https://s3.example.org" {
		t.Errorf("univ-b's job %s: %v", b.Name, b.Options.Targets)
	}
	if j.Location.String() != "Europe/Paris" {
		t.Errorf("zone %s", j.Location)
	}
}

func TestProfileCarriesOnlyTheEstablishmentsIdentifiers(t *testing.T) {
	c := loadTestdata(t)
	a, _ := c.Establishment("univ-a")
	p, err := a.Profile("apogee")
	if err != nil {
		t.Fatal(err)
	}
	s := p.SEDA
	if s.OriginatingAgency != "UNIVA-SCOL" || s.SubmissionAgency != "UNIVA-DSI" || s.ArchivalAgreement != "IC-UNIVA-000001" ||
		s.TransferringAgency.Identifier != "UNIVA-SCOL" || s.ArchivalAgency.Identifier != "FRAD000" {
		t.Errorf("univ-a's apogee: %+v", s)
	}
	// The schedule extension replaces the built-in schedule.
	if p.Schedule() == nil || p.Schedule().Name != "apogee-univ-a" {
		t.Errorf("univ-a's apogee schedule: %v", p.Schedule())
	}
	h, err := a.Profile("harpege")
	if err != nil || h.SEDA.OriginatingAgency != "UNIVA-SCOL" || h.Schedule().Name != "harpege" {
		t.Errorf("univ-a's harpege: %v %+v", err, h)
	}
	b, _ := c.Establishment("univ-b")
	pb, err := b.Profile("apogee")
	if err != nil || pb.SEDA.ArchivalProfile != "PR-UNIVB-ETU" || pb.SEDA.OriginatingAgency != "UNIVB-SCOL" || pb.Schedule().Name != "apogee" {
		t.Errorf("univ-b's apogee: %v %+v", err, pb)
	}
	// Each call gives a profile of its own: changing one leaves the next untouched.
	p.SEDA.OriginatingAgency = "CHANGED"
	if q, _ := a.Profile("apogee"); q.SEDA.OriginatingAgency != "UNIVA-SCOL" {
		t.Error("profiles are shared between calls")
	}
	if _, err := b.Profile("harpege"); err == nil || err.Error() != `establishment univ-b has no profile "harpege" (its profiles: apogee)` {
		t.Errorf("another establishment's profile: %v", err)
	}
}

func TestClientsAndCertificatesFindTheirEstablishment(t *testing.T) {
	c := loadTestdata(t)
	if e, ok := c.ByClient("sco-app-a"); !ok || e.ID != "univ-a" {
		t.Errorf("sco-app-a: %v", e)
	}
	if _, ok := c.ByClient("sco-app-b"); ok {
		t.Error("unknown client found")
	}
	if _, ok := c.ByClient(""); ok {
		t.Error("empty client found")
	}
	cert := &x509.Certificate{Raw: []byte("not the registered one"), Subject: pkix.Name{CommonName: "sco-app.univ-a.fr"}}
	if e, ok := c.ByCertificate(cert); !ok || e.ID != "univ-a" {
		t.Errorf("by subject CN: %v", e)
	}
	cert.Subject.CommonName = "sco-app.univ-b.fr"
	if _, ok := c.ByCertificate(cert); ok {
		t.Error("unknown CN found")
	}
	if _, ok := c.ByCertificate(nil); ok {
		t.Error("nil certificate found")
	}
}

func TestByCertificateFingerprint(t *testing.T) {
	raw := []byte("a DER certificate")
	dir := t.TempDir()
	fp := sha256Hex(raw)
	y := strings.Replace(minimal, "    profiles:", "    api_clients:\n      - certificate: {sha256: \""+strings.ToUpper(fp)+"\"}\n    profiles:", 1)
	c, err := Parse(filepath.Join(dir, "platform.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := c.ByCertificate(&x509.Certificate{Raw: raw}); !ok || e.ID != "univ-a" {
		t.Errorf("by fingerprint: %v", e)
	}
	if _, ok := c.ByCertificate(&x509.Certificate{Raw: []byte("another")}); ok {
		t.Error("another certificate found")
	}
}

const minimal = `state_root: /srv/versement
establishments:
  - id: univ-a
    name: Université A
    seda: {originating_agency: UNIVA-SCOL, archival_agreement: IC-UNIVA-000001}
    profiles:
      - profile: apogee
    targets: {final: "dir:///srv/archives/univ-a"}
`

// second is an establishment to append to minimal.
const second = `  - id: univ-b
    name: Université B
    seda: {originating_agency: UNIVB-SCOL, archival_agreement: IC-UNIVB-000001}
    profiles:
      - profile: apogee
    targets: {final: "dir:///srv/archives/univ-b"}
`

func TestParseErrorsNameTheFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"no establishments", "state_root: /srv\n", "p.yaml:1: establishments: none: want a list of establishments, each with an id, a name, its seda identifiers and its profiles"},
		{"unknown field", minimal + "    colour: blue\n", `p.yaml:9: establishments[0].colour: unknown field "colour"`},
		{"bad timezone", "timezone: Europe/Lutece\n" + minimal, `p.yaml:1: timezone: unknown time zone "Europe/Lutece" (want an IANA name such as Europe/Paris)`},
		{"bad id", strings.Replace(minimal, "id: univ-a", "id: univ/a", 1), `p.yaml:3: establishments[0].id: "univ/a": use letters, digits and '-' only, starting with a letter or digit, at most 63 characters`},
		{"duplicate id", minimal + strings.Replace(second, "id: univ-b", "id: UNIV-A", 1), `p.yaml:9: establishments[1].id: establishment "UNIV-A" is already defined at line 3`},
		{"no name", strings.Replace(minimal, "    name: Université A\n", "", 1), `p.yaml:3: establishments[0].name: missing: the establishment's name, as its documents print it`},
		{"no agency", strings.Replace(minimal, "originating_agency: UNIVA-SCOL, ", "", 1),
			"p.yaml:5: establishments[0].seda.originating_agency: missing: the agency whose dossiers these are, named in every SIP (OriginatingAgencyIdentifier), e.g. UNIVA-SCOL"},
		{"bad agency", strings.Replace(minimal, "UNIVA-SCOL", "UNIV A", 1),
			`p.yaml:5: establishments[0].seda.originating_agency: "UNIV A": an identifier is letters, digits, '.', '_', ':' and '-', at most 64 characters, no spaces`},
		{"shared agency", minimal + strings.Replace(second, "originating_agency: UNIVB-SCOL", "originating_agency: UNIVA-SCOL", 1),
			"p.yaml:11: establishments[1].seda.originating_agency: UNIVA-SCOL is already establishment univ-a's originating agency (establishments[0].seda.originating_agency, line 5): each establishment's SIPs and contracts name its own identifiers"},
		{"shared contract", minimal + strings.Replace(second, "IC-UNIVB-000001", "IC-UNIVA-000001", 1),
			"p.yaml:11: establishments[1].seda.archival_agreement: IC-UNIVA-000001 is already establishment univ-a's ingest contract (establishments[0].seda.archival_agreement, line 5): each establishment's SIPs and contracts name its own identifiers"},
		{"shared state", minimal + second + "    state: /srv/versement/univ-a\n",
			"p.yaml:15: establishments[1].state: /srv/versement/univ-a is also establishment univ-a's state folder (establishments[0].state, line 3): establishments share no folder, file or target"},
		{"ledger in another's state", minimal + second + "    ledger: /srv/versement/univ-a/b-ledger.jsonl\n",
			"p.yaml:15: establishments[1].ledger: /srv/versement/univ-a/b-ledger.jsonl is inside establishment univ-a's state folder /srv/versement/univ-a (establishments[0].state, line 3): establishments share no folder, file or target"},
		{"shared access log", strings.Replace(minimal, "    profiles:", "    access_log: /srv/logs/access.jsonl\n    profiles:", 1) + second + "    access_log: /srv/logs/access.jsonl\n",
			"p.yaml:16: establishments[1].access_log: /srv/logs/access.jsonl is also establishment univ-a's access log (establishments[0].access_log, line 6): establishments share no folder, file or target"},
		{"shared folder target", minimal + strings.Replace(second, "dir:///srv/archives/univ-b", "dir:///srv/archives/univ-a/", 1),
			"p.yaml:14: establishments[1].targets.final: dir:///srv/archives/univ-a is also establishment univ-a's final target (establishments[0].targets.final, line 8): establishments share no folder, file or target"},
		{"target holding another's", minimal + strings.Replace(second, "dir:///srv/archives/univ-b", "dir:///srv/archives", 1),
			"p.yaml:14: establishments[1].targets.final: dir:///srv/archives holds establishment univ-a's final target dir:///srv/archives/univ-a (establishments[0].targets.final, line 8): establishments share no folder, file or target"},
		{"shared bucket prefix", strings.Replace(minimal, "dir:///srv/archives/univ-a", "s3://depot/univ?endpoint=https://s3.example.org", 1) +
			strings.Replace(second, "dir:///srv/archives/univ-b", "s3://depot/univ/b?endpoint=https://s3.example.org", 1),
			"p.yaml:14: establishments[1].targets.final: s3://depot/univ/b?endpoint=https://s3.example.org is inside establishment univ-a's final target s3://depot/univ?endpoint=https://s3.example.org (establishments[0].targets.final, line 8): establishments share no folder, file or target"},
		{"bad target", strings.Replace(minimal, "dir:///srv/archives/univ-a", "ftp://x", 1), `p.yaml:8: establishments[0].targets.final: target "ftp://x": unknown scheme "ftp" (want dir://, s3:// or vitam+https://)`},
		{"unknown tier", strings.Replace(minimal, "{final:", "{active:", 1), `p.yaml:8: establishments[0].targets.active: unknown tier "active": want intermediate or final`},
		{"tenant mismatch", strings.Replace(minimal, `targets: {final: "dir:///srv/archives/univ-a"}`, "vitam: {tenant: 2}\n    targets: {final: \"vitam+https://vitam.example.org:8443?tenant=3\"}", 1),
			"p.yaml:9: establishments[0].targets.final: tenant=3 is not the establishment's VITAM tenant (vitam.tenant: 2)"},
		{"no state", strings.Replace(minimal, "state_root: /srv/versement\n", "", 1),
			"p.yaml:2: establishments[0].state: missing: give the establishment's state folder, or state_root at the top of the file (state then defaults to STATE_ROOT/univ-a)"},
		{"no profiles", strings.Replace(minimal, "    profiles:\n      - profile: apogee\n", "", 1),
			"p.yaml:3: establishments[0].profiles: none: want at least one profile, a built-in name (apogee, harpege) or a profile file"},
		{"unknown profile", strings.Replace(minimal, "profile: apogee", "profile: scolarite", 1),
			`p.yaml:7: establishments[0].profiles[0].profile: no built-in profile "scolarite" (built-in: apogee, harpege)`},
		{"profile twice", strings.Replace(minimal, "      - profile: apogee\n", "      - profile: apogee\n      - profile: apogee\n", 1),
			"p.yaml:8: establishments[0].profiles[1].profile: profile apogee is already the establishment's (establishments[0].profiles[0], line 7)"},
		{"missing schedule", strings.Replace(minimal, "      - profile: apogee\n", "      - profile: apogee\n        schedule: /nonexistent/s.yaml\n", 1),
			"p.yaml:8: establishments[0].profiles[0].schedule: schedule: open /nonexistent/s.yaml: no such file or directory"},
		{"client and certificate", strings.Replace(minimal, "    profiles:", "    api_clients:\n      - {client_id: a, certificate: {subject_cn: b}}\n    profiles:", 1),
			"p.yaml:7: establishments[0].api_clients[0]: want exactly one of client_id (an OIDC / OAuth2 client) or certificate (an mTLS client certificate: subject_cn or sha256)"},
		{"bad fingerprint", strings.Replace(minimal, "    profiles:", "    api_clients:\n      - certificate: {sha256: abc}\n    profiles:", 1),
			`p.yaml:7: establishments[0].api_clients[0].certificate.sha256: "abc": want the certificate's SHA-256 fingerprint, 64 hexadecimal digits (colons allowed)`},
		{"shared client", strings.Replace(minimal, "    profiles:", "    api_clients:\n      - client_id: sco-app\n    profiles:", 1) +
			strings.Replace(second, "    profiles:", "    api_clients:\n      - client_id: sco-app\n    profiles:", 1),
			"p.yaml:15: establishments[1].api_clients[0].client_id: sco-app is also establishment univ-a's API client (establishments[0].api_clients[0].client_id, line 7): a client acts for one establishment only"},
		{"shared certificate CN", strings.Replace(minimal, "    profiles:", "    api_clients:\n      - certificate: {subject_cn: app.example.org}\n    profiles:", 1) +
			strings.Replace(second, "    profiles:", "    api_clients:\n      - certificate: {subject_cn: app.example.org}\n    profiles:", 1),
			"p.yaml:15: establishments[1].api_clients[0].certificate.subject_cn: app.example.org is also establishment univ-a's API client (establishments[0].api_clients[0].certificate.subject_cn, line 7): a client acts for one establishment only"},
		{"client twice", strings.Replace(minimal, "    profiles:", "    api_clients:\n      - client_id: sco-app\n      - client_id: sco-app\n    profiles:", 1),
			"p.yaml:8: establishments[0].api_clients[1].client_id: sco-app is already this establishment's API client (establishments[0].api_clients[0].client_id, line 7)"},
		{"vitam contract shared", strings.Replace(minimal, "    profiles:", "    vitam: {access_contracts: {archives: AC-SHARED}}\n    profiles:", 1) +
			strings.Replace(second, "    profiles:", "    vitam: {access_contracts: {archives: AC-SHARED}}\n    profiles:", 1),
			"p.yaml:13: establishments[1].vitam.access_contracts.archives: AC-SHARED is already establishment univ-a's archives access contract (establishments[0].vitam.access_contracts.archives, line 6): each establishment's SIPs and contracts name its own identifiers"},
		// Jobs: nightly's own messages, at their line in the platform file.
		{"job bad cron", minimal + "    jobs:\n      - {name: n, cron: \"every night\", profile: apogee, source: {env: A_DSN}}\n",
			`p.yaml:10: establishments[0].jobs[0].cron: bad cron spec "every night": expected 5 to 6 fields, found 2: [every night]`},
		{"job no source", minimal + "    jobs:\n      - {name: n, cron: \"@daily\", profile: apogee}\n",
			"p.yaml:10: establishments[0].jobs[0].source: want exactly one of env (the name of an environment variable holding the connection string) or file (a file holding it)"},
		{"job unknown field", minimal + "    jobs:\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: A_DSN}, colour: red}\n",
			`p.yaml:10: establishments[0].jobs[0].colour: unknown field "colour"`},
		{"job twice", minimal + "    jobs:\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: A_DSN}}\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: A_DSN}}\n",
			`p.yaml:11: establishments[0].jobs[1].name: job "n" is already defined at line 10`},
		{"job of another's profile", minimal + "    jobs:\n      - {name: n, cron: \"@daily\", profile: harpege, source: {env: A_DSN}}\n",
			`p.yaml:10: establishments[0].jobs[0].profile: "harpege" is not a profile of establishment univ-a (its profiles: apogee)`},
		{"job targets into another's", minimal + second + "    jobs:\n      - name: n\n        cron: \"@daily\"\n        profile: apogee\n        source: {env: B_DSN}\n        targets: {final: \"dir:///srv/archives/univ-a/stolen\"}\n",
			"p.yaml:20: establishments[1].jobs[0].targets.final: dir:///srv/archives/univ-a/stolen is inside establishment univ-a's final target dir:///srv/archives/univ-a (establishments[0].targets.final, line 8): establishments share no folder, file or target"},
		{"job state into another's", minimal + second + "    jobs:\n      - name: n\n        cron: \"@daily\"\n        profile: apogee\n        source: {env: B_DSN}\n        state: /srv/versement/univ-a/b\n",
			"p.yaml:20: establishments[1].jobs[0].state: /srv/versement/univ-a/b is inside establishment univ-a's state folder /srv/versement/univ-a (establishments[0].state, line 3): establishments share no folder, file or target"},
		{"shared source secret", minimal + "    jobs:\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: DSN}}\n" + second + "    jobs:\n      - {name: n, cron: \"@daily\", profile: apogee, source: {env: DSN}}\n",
			"p.yaml:18: establishments[1].jobs[0].source: env DSN is also establishment univ-a's source (establishments[0].jobs[0].source, line 10): each establishment reads its databases with its own secrets"},
		{"alias", strings.Replace(strings.Replace(minimal, "name: Université A", "name: &n Université A", 1), "profile: apogee", "profile: *n", 1),
			"p.yaml:7: YAML aliases (*name) are not allowed in a platform file: repeat the value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.yaml)
			}
			if err.Error() != tc.want {
				t.Fatalf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestTwoEstablishmentsWithOwnEverythingAreAccepted(t *testing.T) {
	c, err := Parse("p.yaml", []byte(minimal+second))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Establishments()) != 2 {
		t.Fatalf("%d establishments", len(c.Establishments()))
	}
	// State folders side by side whose names share a prefix are not nested.
	if _, err := Parse("p.yaml", []byte(minimal+second+"    state: /srv/versement/univ-a-2\n")); err != nil {
		t.Errorf("univ-a-2 beside univ-a: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.HasPrefix(err.Error(), "platform file: open ") || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
