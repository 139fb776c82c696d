package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/chain"
	"github.com/versement/versement/roles"
)

var accessT0 = time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)

// accessDay writes an access log as versement serve would leave it after a morning: a search
// returning apogee 42 and 43, a view of 42, a refused download of 43, and a view of 42 by
// someone else; and the example roles file. It returns both paths.
func accessDay(t *testing.T) (logPath, rolesPath string) {
	t.Helper()
	dir := t.TempDir()
	logPath, rolesPath = filepath.Join(dir, "access.jsonl"), filepath.Join(dir, "roles.yaml")
	if err := os.WriteFile(rolesPath, roles.ExampleYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	claire := accesslog.User{ID: "cmartin", Name: "Claire Martin", Groups: []string{"scolarite"}, Via: accesslog.ViaOIDC}
	motive := accesslog.Motive{Category: "verification-diplome", Text: "employeur, courriel du 3/12"}
	l, err := accesslog.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, e := range []accesslog.Entry{
		{Time: accessT0, User: claire, Operation: accesslog.OpSearch, Profile: "apogee", Criteria: map[string]string{"name": "Dupont", "born": "1990"},
			Found: []accesslog.Dossier{{Profile: "apogee", Key: "42"}, {Profile: "apogee", Key: "43"}}, Motive: motive, Result: accesslog.ResultOK},
		{Time: accessT0.Add(time.Minute), User: claire, Operation: accesslog.OpView, Profile: "apogee", Class: "etudiant", Tier: "intermediate", Key: "42", Motive: motive, Result: accesslog.ResultOK},
		{Time: accessT0.Add(2 * time.Minute), User: claire, Operation: accesslog.OpDownload, Profile: "apogee", Class: "etudiant", Tier: "final", Key: "43", Motive: motive,
			Result: accesslog.ResultRefused, Reason: "tier-not-allowed"},
		{Time: accessT0.Add(3 * time.Minute), User: accesslog.User{ID: "pdurand", Groups: []string{"archives"}, Via: accesslog.ViaProxy}, Operation: accesslog.OpView,
			Profile: "apogee", Class: "etudiant", Tier: "final", Key: "42", Motive: accesslog.Motive{Category: "controle-audit", Text: "audit annuel\x1b[31m"}, Result: accesslog.ResultOK},
	} {
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return logPath, rolesPath
}

func accessEntries(t *testing.T, p string) []accesslog.Entry {
	t.Helper()
	var ents []accesslog.Entry
	rep, err := accesslog.Read(context.Background(), p, func(e accesslog.Entry) { ents = append(ents, e) })
	if err != nil || !rep.OK() {
		t.Fatalf("reading %s: %+v %v", p, rep, err)
	}
	return ents
}

func stamp(m int) string {
	return accessT0.Add(time.Duration(m) * time.Minute).Local().Format("2006-01-02 15:04:05 -0700")
}

// The archives service answers "who read my record" for apogee 42: the search that returned it,
// both views, and this very listing, recorded before it is shown; 43's refused download is not
// 42's business, nor are the search's criteria.
func TestAccessLogListsEveryAccessToADossier(t *testing.T) {
	logPath, rolesPath := accessDay(t)
	out, code := run(t, "access-log", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "42",
		"--as", "pdurand", "--groups", "staff,archives", "--motive-category", "droit-acces", "--motive", "courrier de l'intéressé du 2/12")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	ents := accessEntries(t, logPath)
	if len(ents) != 5 {
		t.Fatalf("%d entries in the log, want the listing recorded as the 5th", len(ents))
	}
	now := ents[4].Time.Local().Format("2006-01-02 15:04:05 -0700")
	want := "accesses to dossier apogee/42 (access log " + logPath + "):\n" +
		"WHEN                       WHO                            OPERATION                MOTIVE                                              RESULT\n" +
		stamp(0) + "  cmartin (Claire Martin, oidc)  search (returned it)     verification-diplome — employeur, courriel du 3/12  access granted\n" +
		stamp(1) + "  cmartin (Claire Martin, oidc)  view of the fiche        verification-diplome — employeur, courriel du 3/12  access granted\n" +
		stamp(3) + "  pdurand (proxy)                view of the fiche        controle-audit — audit annuel\\x1b[31m               access granted\n" +
		now + "  pdurand (cli)                  listing of its accesses  droit-acces — courrier de l'intéressé du 2/12       access granted\n" +
		"4 accesses; this listing is itself recorded (entry 5 of the access log).\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	e := ents[4]
	host, _ := os.Hostname()
	sys, _ := user.Current()
	if e.Operation != accesslog.OpAccessLog || e.Result != accesslog.ResultOK || e.Profile != "apogee" || e.Key != "42" ||
		e.User.ID != "pdurand" || strings.Join(e.User.Groups, ",") != "staff,archives" || e.User.Via != accesslog.ViaCLI ||
		e.Client != "cli:"+sys.Username+"@"+host || e.Motive.Category != "droit-acces" {
		t.Errorf("the listing's entry: %+v", e)
	}

	// In French, with the motives' labels.
	t.Setenv("LANG", "fr_FR.UTF-8")
	out, code = run(t, "access-log", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "43",
		"--as", "dpo", "--groups", "dpo", "--motive-category", "controle-audit", "--motive", "contrôle CNIL 2026")
	now = accessEntries(t, logPath)[5].Time.Local().Format("2006-01-02 15:04:05 -0700")
	want = "accès au dossier apogee/43 (journal des accès " + logPath + ") :\n" +
		"DATE                       QUI                            OPÉRATION               MOTIF                                                                     RÉSULTAT\n" +
		stamp(0) + "  cmartin (Claire Martin, oidc)  recherche (l'a trouvé)  Vérification d'un diplôme ou d'un parcours — employeur, courriel du 3/12  accordé\n" +
		stamp(2) + "  cmartin (Claire Martin, oidc)  téléchargement          Vérification d'un diplôme ou d'un parcours — employeur, courriel du 3/12  refusé : tier-not-allowed\n" +
		now + "  dpo (cli)                      lecture de ses accès    Contrôle ou audit — contrôle CNIL 2026                                    accordé\n" +
		"3 accès ; cette lecture est elle-même enregistrée (entrée 6 du journal des accès).\n"
	if code != exitOK || out != want {
		t.Fatalf("exit %d, got\n%s\nwant\n%s", code, out, want)
	}

	// JSON: the accesses, without a search's criteria or what else it returned.
	t.Setenv("LANG", "C.UTF-8")
	out, code = run(t, "access-log", "--json", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "42",
		"--as", "pdurand", "--groups", "archives", "--motive-category", "droit-acces", "--motive", "relance du 4/12")
	var doc struct {
		Profile, Key, Log string
		Recorded          int64 `json:"recorded_as"`
		Accesses          []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	var seqs []float64
	for _, a := range doc.Accesses {
		seqs = append(seqs, a["seq"].(float64))
		if _, ok := a["criteria"]; ok {
			t.Errorf("criteria shown: %v", a)
		}
		if _, ok := a["found"]; ok {
			t.Errorf("other dossiers shown: %v", a)
		}
	}
	if doc.Profile != "apogee" || doc.Key != "42" || doc.Recorded != 7 || len(seqs) != 5 || seqs[0] != 1 || seqs[2] != 4 || seqs[4] != 7 {
		t.Errorf("%+v %v", doc, seqs)
	}
	if !strings.Contains(out, `"motive": {`+"\n"+`        "category": "verification-diplome",`) {
		t.Errorf("motive not shown:\n%s", out)
	}
}

// Who may not read the log is refused, and the refusal is in the log too; so is a listing
// without a motive.
func TestAccessLogRefusals(t *testing.T) {
	logPath, rolesPath := accessDay(t)
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
		msg    string
	}{
		{"a role without access_log", []string{"--roles", rolesPath, "--as", "cmartin", "--groups", "scolarite", "--motive-category", "droit-acces", "--motive", "curiosité pure"},
			roles.ReasonLogNotAllowed, "your roles (scolarite) do not allow reading the access log"},
		{"no role", []string{"--roles", rolesPath, "--as", "someone", "--motive-category", "droit-acces", "--motive", "curiosité pure"},
			roles.ReasonNoRole, "your groups give you no role in the roles file"},
		{"no roles file", []string{"--as", "pdurand", "--groups", "archives", "--motive-category", "droit-acces", "--motive", "curiosité pure"},
			roles.ReasonNoPolicy, "no roles file: nobody may consult archived dossiers"},
		{"no motive", []string{"--roles", rolesPath, "--as", "pdurand", "--groups", "archives"},
			roles.ReasonMotiveMissing, "a motive is required: choose a category (droit-acces, verification-diplome, demande-judiciaire, recherche-derogation, controle-audit, contentieux, autre) and say why"},
		{"a motive too short", []string{"--roles", rolesPath, "--as", "pdurand", "--groups", "archives", "--motive-category", "autre", "--motive", "vu"},
			roles.ReasonMotiveTooShort, "the motive's text is too short: say in a few words why (at least 8 characters)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(accessEntries(t, logPath))
			out, code := run(t, append([]string{"access-log", "--log", logPath, "--profile", "apogee", "--key", "42"}, tc.args...)...)
			want := "ERR: access-log: refused: " + tc.msg + " (the refusal is recorded in the access log)\n"
			if code != exitFindings || out != want {
				t.Fatalf("exit %d\n%s\nwant exit 1 and\n%s", code, out, want)
			}
			ents := accessEntries(t, logPath)
			e := ents[len(ents)-1]
			if len(ents) != before+1 || e.Operation != accesslog.OpAccessLog || e.Result != accesslog.ResultRefused || e.Reason != tc.reason || e.Key != "42" {
				t.Fatalf("recorded %+v", e)
			}
		})
	}
	t.Setenv("LANG", "fr_FR.UTF-8")
	out, code := run(t, "access-log", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "42", "--as", "cmartin", "--groups", "scolarite")
	if want := "ERR: access-log : refusé : vos rôles (scolarite) ne permettent pas de lire le journal des accès (le refus est enregistré dans le journal des accès)\n"; code != exitFindings || out != want {
		t.Fatalf("French: exit %d\n%s\nwant\n%s", code, out, want)
	}
}

// Without --as, the caller is the system user with their groups.
func TestAccessLogAsTheSystemUser(t *testing.T) {
	logPath, _ := accessDay(t)
	sys, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	ids, _ := sys.GroupIds()
	g, err := user.LookupGroupId(ids[0])
	if err != nil {
		t.Skip(err)
	}
	rolesPath := filepath.Join(t.TempDir(), "roles.yaml")
	os.WriteFile(rolesPath, []byte("roles:\n  - name: dpo\n    groups: ["+g.Name+"]\n    access_log: true\n"), 0o644)
	out, code := run(t, "access-log", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "42", "--motive-category", "droit-acces", "--motive", "demande du 4/12")
	if code != exitOK || !strings.Contains(out, "4 accesses; this listing is itself recorded (entry 5 of the access log).\n") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	e := accessEntries(t, logPath)[4]
	if e.User.ID != sys.Username || !strings.Contains(strings.Join(e.User.Groups, ","), g.Name) || e.User.Via != accesslog.ViaCLI {
		t.Errorf("recorded %+v", e.User)
	}
}

// A wrong call says what is wrong and records nothing.
func TestAccessLogBadCalls(t *testing.T) {
	logPath, rolesPath := accessDay(t)
	badRoles := filepath.Join(t.TempDir(), "roles.yaml")
	os.WriteFile(badRoles, []byte("roles:\n  - name: a\n    groups: [x]\n    acces_log: true\n"), 0o644)
	missing := filepath.Join(t.TempDir(), "nope.jsonl")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "apogee"}, "access-log: give --log, --key"},
		{[]string{"--log", logPath, "--profile", "apogee", "--key", "42", "--groups", "archives"}, "access-log: --groups goes with --as (without it, the system user's groups are used)"},
		{[]string{"--log", logPath, "--roles", badRoles, "--profile", "apogee", "--key", "42"}, "access-log: " + badRoles + `:4: roles[0].acces_log: unknown field "acces_log"`},
		{[]string{"--log", missing, "--roles", rolesPath, "--profile", "apogee", "--key", "42"}, "access-log: " + missing + " does not exist: give the access log that versement serve and consult write"},
	} {
		out, code := run(t, append([]string{"access-log"}, tc.args...)...)
		if code != exitError || out != "ERR: "+tc.want+"\n" {
			t.Errorf("%v: exit %d\n%s\nwant exit 2 and\nERR: %s", tc.args, code, out, tc.want)
		}
	}
	if n := len(accessEntries(t, logPath)); n != 4 {
		t.Errorf("%d entries after bad calls", n)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a log was created at a mistyped path")
	}
	// The log is held by another process (versement serve): refused at once, nothing shown.
	l, err := accesslog.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, code := run(t, "access-log", "--log", logPath, "--roles", rolesPath, "--profile", "apogee", "--key", "42", "--as", "pdurand", "--groups", "archives",
		"--motive-category", "droit-acces", "--motive", "demande du 4/12")
	if want := "ERR: access-log: access log " + logPath + " is in use by another process\n"; code != exitError || out != want {
		t.Errorf("held log: exit %d\n%s\nwant %s", code, out, want)
	}
}

// verify --ledger reads an access log as well as a transfer ledger, says which it read, and
// finds every way of tampering with one.
func TestVerifyAccessLog(t *testing.T) {
	logPath, _ := accessDay(t)
	orig, _ := os.ReadFile(logPath)
	lines := bytes.SplitAfter(orig, []byte("\n"))[:4]
	ents := accessEntries(t, logPath)
	h := func(i int) string { return ents[i].Hash[:12] + "…" }
	hp := chain.HeadPath(logPath)

	out, code := run(t, "verify", "--ledger", logPath)
	want := "access log " + logPath + ": 4 entries chained, last hash " + ents[3].Hash + "\nhead 4:" + ents[3].Hash + " (" + hp + "): holds\nOK\n"
	if code != exitOK || out != want {
		t.Fatalf("intact: exit %d\n%s\nwant\n%s", code, out, want)
	}
	out, code = run(t, "verify", "--json", "--ledger", logPath, "--head", "2:"+ents[1].Hash)
	var jr struct {
		OK      bool   `json:"ok"`
		Kind    string `json:"kind"`
		Entries int    `json:"entries"`
		Heads   []chain.HeadCheck
	}
	if err := json.Unmarshal([]byte(out), &jr); err != nil || code != exitOK || !jr.OK || jr.Kind != "access-log" || jr.Entries != 4 || len(jr.Heads) != 2 || jr.Heads[1].Extra != 2 {
		t.Fatalf("--json: exit %d %v %+v\n%s", code, err, jr, out)
	}
	out, code = run(t, "verify", "--ledger", logPath, "--target", "dir://"+t.TempDir())
	if want := "ERR: verify: access log " + logPath + ": is an access log: --target checks the SIPs a transfer ledger lists\n"; code != exitError || out != want {
		t.Errorf("--target: exit %d\n%s\nwant %s", code, out, want)
	}

	flipped := bytes.Clone(orig)
	at := len(bytes.Join(lines[:1], nil)) + bytes.Index(lines[1], []byte(`"key":"42"`)) + len(`"key":"4`)
	flipped[at] = '3' // the view of 42 becomes a view of 43
	for _, tc := range []struct {
		name    string
		content []byte
		want    []string
	}{
		{"flip a byte", flipped, []string{"BROKEN line 2: content does not match its hash (recorded " + h(1) + ", computed "}},
		{"delete a line", bytes.Join([][]byte{lines[0], lines[2], lines[3]}, nil),
			[]string{"BROKEN line 2: previous-entry hash " + h(1) + " does not match line 1's hash " + h(0) + ": an entry was removed, inserted or reordered\n"}},
		{"reorder two lines", bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3]}, nil),
			[]string{"BROKEN line 2: previous-entry hash " + h(1) + " does not match line 1's hash " + h(0) + ": an entry was removed, inserted or reordered\n"}},
		{"truncate", bytes.Join(lines[:2], nil),
			[]string{"BROKEN " + hp + " records 4 entries ending with " + h(3) + ", the access log has 2: entries were removed\n"}},
		{"truncate mid-line", orig[:len(orig)-10], []string{
			"BROKEN line 4: incomplete last line, which " + hp + " counts as a committed entry: the line was damaged or cut, not left by an interrupted append\n",
			"BROKEN " + hp + " records 4 entries ending with " + h(3) + ", the access log has 3: entries were removed\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(logPath, tc.content, 0o600)
			out, code := run(t, "verify", "--ledger", logPath)
			wantOutput(t, tc.name, out, code, exitFindings, append(tc.want, "\nERR: verify: access log "+logPath+" does not hold\n")...)
			if strings.Contains(out, "\nOK\n") || !strings.HasPrefix(out, "access log "+logPath+": ") {
				t.Errorf("%s:\n%s", tc.name, out)
			}
		})
	}
	// The flipped line's computed hash, as sha256sum gives it, is the one the report names.
	os.WriteFile(logPath, flipped, 0o600)
	out, _ = run(t, "verify", "--json", "--ledger", logPath)
	if !strings.Contains(out, `"reason": "content does not match its hash (recorded `+h(1)+", computed ") || !strings.Contains(out, `"line": 2`) {
		t.Errorf("flip, JSON:\n%s", out)
	}
}

// A transfer ledger says it is one.
func TestVerifyTransferLedgerSaysItsKind(t *testing.T) {
	led, _ := transferred(t, 1)
	out, code := run(t, "verify", "--ledger", led)
	if code != exitOK || !strings.HasPrefix(out, "transfer ledger "+led+": 1 entries chained, last hash ") {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, _ = run(t, "verify", "--json", "--ledger", led)
	if !strings.Contains(out, `"kind": "transfer-ledger"`) {
		t.Errorf("--json:\n%s", out)
	}
}
