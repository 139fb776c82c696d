package accesslog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/chain"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	// Claire of the scolarité, through the establishment's sign-on.
	claire  = accesslog.User{ID: "cmartin", Name: "Claire Martin", Groups: []string{"scolarite"}, Via: accesslog.ViaOIDC}
	archivv = accesslog.User{ID: "archiviste", Name: "Paul Durand", Groups: []string{"archives"}, Via: accesslog.ViaProxy}
	motive  = accesslog.Motive{Category: "verification-diplome", Text: "demande de l'employeur, courriel du 3 décembre"}
)

// day is a small access log's story: a search returning 42 and 43, a view of 42, a refused
// download of 43, a view of an unknown key, and a listing of 42's accesses.
func day() []accesslog.Entry {
	return []accesslog.Entry{
		{Time: t0, User: claire, Client: "192.0.2.10", Operation: accesslog.OpSearch, Profile: "apogee",
			Criteria: map[string]string{"name": "Dupont", "born": "1990"}, Found: []accesslog.Dossier{{"apogee", "42"}, {"apogee", "43"}},
			Motive: motive, Result: accesslog.ResultOK},
		{Time: t0.Add(time.Minute), User: claire, Operation: accesslog.OpView, Profile: "apogee", Class: "etudiant", Tier: "intermediate", Key: "42",
			Motive: motive, Result: accesslog.ResultOK},
		{Time: t0.Add(2 * time.Minute), User: claire, Operation: accesslog.OpDownload, Profile: "apogee", Class: "etudiant", Tier: "final", Key: "43",
			Motive: motive, Result: accesslog.ResultRefused, Reason: "tier-not-allowed"},
		{Time: t0.Add(3 * time.Minute), User: claire, Operation: accesslog.OpView, Profile: "apogee", Key: "999", Motive: motive, Result: accesslog.ResultNotFound},
		{Time: t0.Add(4 * time.Minute), User: archivv, Operation: accesslog.OpAccessLog, Profile: "apogee", Key: "42",
			Motive: accesslog.Motive{Category: "droit-acces", Text: "demande de l'intéressé"}, Result: accesslog.ResultOK},
	}
}

func write(t *testing.T, ents []accesslog.Entry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "access.jsonl")
	l, err := accesslog.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAppendWritesAKindedChainedLine(t *testing.T) {
	p := write(t, day()[:1])
	b, _ := os.ReadFile(p)
	want := `{"kind":"access","v":1,"seq":1,"time":"2026-12-04T09:30:00Z","prev":"` + chain.Genesis + `",` +
		`"user":{"id":"cmartin","name":"Claire Martin","groups":["scolarite"],"via":"oidc"},"client":"192.0.2.10","op":"search","profile":"apogee",` +
		`"criteria":{"born":"1990","name":"Dupont"},"found":[{"profile":"apogee","key":"42"},{"profile":"apogee","key":"43"}],` +
		`"motive":{"category":"verification-diplome","text":"demande de l'employeur, courriel du 3 décembre"},"result":"ok","hash":"`
	if !bytes.HasPrefix(b, []byte(want)) {
		t.Fatalf("line:\n%s\nwant it to begin with\n%s", b, want)
	}
	if ok, err := accesslog.IsAccessLog(p); !ok || err != nil {
		t.Errorf("IsAccessLog: %v %v", ok, err)
	}
	for _, f := range []string{p, chain.HeadPath(p)} {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	rep, err := accesslog.Verify(ctx, p, nil)
	if err != nil || !rep.OK() || rep.Entries != 1 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// An existing log left readable by others (copied with cp, restored from a backup) is narrowed.
func TestOpenNarrowsAWideLog(t *testing.T) {
	p := write(t, day()[:1])
	os.Chmod(p, 0o644)
	l, err := accesslog.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after open, want 0600", fi.Mode().Perm())
	}
}

// An entry that could not answer who did what, to which dossier, why and with what result is
// not written: the caller must not go on.
func TestAppendRefusesAnIncompleteEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "access.jsonl")
	l, err := accesslog.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	view := day()[1]
	for _, tc := range []struct {
		edit func(e *accesslog.Entry)
		want string
	}{
		{func(e *accesslog.Entry) { e.Operation = "print" }, `operation "print" is not one of search, view, download, access-log`},
		{func(e *accesslog.Entry) { e.Result = "" }, `result "" is not one of ok, refused, not-found, failed`},
		{func(e *accesslog.Entry) { e.Result, e.Reason = accesslog.ResultFailed, "" }, `a failure says why (reason)`},
		{func(e *accesslog.Entry) { e.User.ID = " " }, "no user id"},
		{func(e *accesslog.Entry) { e.User.Via = "kerberos" }, `user.via "kerberos" is not one of oidc, proxy, local, cli`},
		{func(e *accesslog.Entry) { e.Key = "" }, "a view names its dossier: profile and key"},
		{func(e *accesslog.Entry) { e.Result = accesslog.ResultRefused }, "a refusal says why (reason)"},
		{func(e *accesslog.Entry) { e.Motive = accesslog.Motive{} }, "a view that was allowed has a motive"},
		{func(e *accesslog.Entry) { e.Operation, e.Key, e.Profile = accesslog.OpSearch, "", "" }, "a search records its criteria"},
		{func(e *accesslog.Entry) { e.User = accesslog.User{}; e.Profile = "" }, `no user id; user.via "" is not one of oidc, proxy, local, cli; a view names its dossier: profile and key`},
	} {
		e := view
		tc.edit(&e)
		if _, err := l.Append(ctx, e); err == nil || err.Error() != "access log: entry refused: "+tc.want {
			t.Errorf("got %v\nwant access log: entry refused: %s", err, tc.want)
		}
	}
	// A refused download needs no motive; a not-found view is logged as such.
	for _, e := range day()[2:4] {
		e.Motive = accesslog.Motive{}
		if _, err := l.Append(ctx, e); err != nil {
			t.Errorf("%s %s: %v", e.Operation, e.Result, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(cctx, view); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if h := l.Head(); h.Entries != 2 {
		t.Errorf("head %v: refused entries were written", h)
	}
}

// "Who read my record": every access to 42, the search that listed it included, and nothing
// about 43 or 999 alone.
func TestForKeyListsEveryAccessToADossier(t *testing.T) {
	p := filepath.Join(t.TempDir(), "access.jsonl")
	l, err := accesslog.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, e := range day() {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := func(list func(fn func(accesslog.Entry) error) error) string {
		var s []string
		if err := list(func(e accesslog.Entry) error {
			s = append(s, fmt.Sprintf("%d %s %s", e.Seq, e.Operation, e.Result))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(s, ", ")
	}
	for key, want := range map[string]string{
		"42":  "1 search ok, 2 view ok, 5 access-log ok",
		"43":  "1 search ok, 3 download refused",
		"999": "4 view not-found",
		"7":   "",
	} {
		if s := got(func(fn func(accesslog.Entry) error) error { return l.ForKey(ctx, "apogee", key, fn) }); s != want {
			t.Errorf("ForKey(apogee, %s): %s, want %s", key, s, want)
		}
		if s := got(func(fn func(accesslog.Entry) error) error { return accesslog.ForKey(ctx, p, "apogee", key, fn) }); s != want {
			t.Errorf("accesslog.ForKey(path, apogee, %s): %s, want %s", key, s, want)
		}
	}
	if s := got(func(fn func(accesslog.Entry) error) error { return l.ForKey(ctx, "harpege", "42", fn) }); s != "" {
		t.Errorf("harpege 42: %s", s)
	}
	stop := errors.New("enough")
	n := 0
	err = l.ForKey(ctx, "apogee", "42", func(accesslog.Entry) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d calls", err, n)
	}
}

// A damaged log lists what is before the break, and says so.
func TestForKeyOnADamagedLog(t *testing.T) {
	p := write(t, day())
	b, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(p, bytes.Join([][]byte{lines[0], lines[1], lines[3], lines[4]}, nil), 0o600)
	var seqs []int64
	err := accesslog.ForKey(ctx, p, "apogee", "42", func(e accesslog.Entry) error { seqs = append(seqs, e.Seq); return nil })
	want := "the access log is damaged at line 3: previous-entry hash "
	if !errors.Is(err, accesslog.ErrDamaged) || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ": only the entries before it are listed (run versement verify --ledger "+p+")") || len(seqs) != 2 {
		t.Fatalf("%v, %v", seqs, err)
	}
	if _, err := accesslog.Open(p); err == nil || !strings.HasPrefix(err.Error(), "access log "+p+" is damaged, refusing to append: line 3: previous-entry hash") {
		t.Fatalf("open: %v", err)
	}
}

// The four ways to tamper with a log, each found at the line it broke, with the exact message.
func TestTamperingIsFound(t *testing.T) {
	p := write(t, day())
	orig, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(orig, []byte("\n"))[:5]
	var hashes []string
	accesslog.Read(ctx, p, func(e accesslog.Entry) { hashes = append(hashes, e.Hash) })
	hp := chain.HeadPath(p)
	short := func(h string) string { return h[:12] + "…" }
	// One byte of the refused download's key, line 3: "43" becomes "45".
	flipped := bytes.Clone(orig)
	at := len(bytes.Join(lines[:2], nil)) + bytes.Index(lines[2], []byte(`"key":"43"`)) + len(`"key":"4`)
	flipped[at] = '5'
	// What sha256sum says of line 3 once altered, with its hash value emptied.
	line3 := bytes.SplitAfter(flipped, []byte("\n"))[2]
	sum := sha256.Sum256(append(bytes.Clone(bytes.TrimSuffix(line3, []byte(hashes[2]+"\"}\n"))), '"', '}'))
	computed := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name    string
		content []byte
		want    []string
	}{
		{"flip a byte", flipped, []string{"line 3: content does not match its hash (recorded " + short(hashes[2]) + ", computed " + short(computed) + "): the entry was altered"}},
		{"delete a line", bytes.Join([][]byte{lines[0], lines[2], lines[3], lines[4]}, nil),
			[]string{"line 2: previous-entry hash " + short(hashes[1]) + " does not match line 1's hash " + short(hashes[0]) + ": an entry was removed, inserted or reordered"}},
		{"reorder two lines", bytes.Join([][]byte{lines[0], lines[1], lines[3], lines[2], lines[4]}, nil),
			[]string{"line 3: previous-entry hash " + short(hashes[2]) + " does not match line 2's hash " + short(hashes[1]) + ": an entry was removed, inserted or reordered"}},
		{"truncate to a whole line", bytes.Join(lines[:3], nil),
			[]string{hp + " records 5 entries ending with " + short(hashes[4]) + ", the access log has 3: entries were removed"}},
		{"truncate mid-line", orig[:len(orig)-30], []string{
			"line 5: incomplete last line, which " + hp + " counts as a committed entry: the line was damaged or cut, not left by an interrupted append",
			hp + " records 5 entries ending with " + short(hashes[4]) + ", the access log has 4: entries were removed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(p, tc.content, 0o600)
			rep, err := accesslog.Verify(ctx, p, nil)
			if err != nil || rep.OK() || len(rep.Problems) != len(tc.want) {
				t.Fatalf("%+v %v", rep, err)
			}
			for i, w := range tc.want {
				if got := rep.Problems[i].String(); got != w {
					t.Errorf("problem %d: %s\nwant %s", i, got, w)
				}
			}
		})
	}
	os.WriteFile(p, orig, 0o600)
	rep, _ := accesslog.Verify(ctx, p, nil)
	if !rep.OK() {
		t.Fatalf("restored: %+v", rep)
	}
}

// A web server appends from many goroutines while someone lists a dossier's accesses.
func TestConcurrentAppendsAndListing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "access.jsonl")
	l, err := accesslog.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				e := day()[1]
				e.Key = fmt.Sprint(w)
				if _, err := l.Append(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if err := l.ForKey(ctx, "apogee", "3", func(accesslog.Entry) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	n := 0
	if err := l.ForKey(ctx, "apogee", "3", func(accesslog.Entry) error { n++; return nil }); err != nil || n != 20 {
		t.Fatalf("%d entries for key 3, %v", n, err)
	}
	if rep, err := accesslog.Verify(ctx, p, nil); err != nil || !rep.OK() || rep.Entries != 120 {
		t.Fatalf("%+v %v", rep, err)
	}
}
