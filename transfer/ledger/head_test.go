package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/ledger"
)

func TestNormalizeTarget(t *testing.T) {
	cwd, _ := os.Getwd()
	for _, tc := range []struct{ in, want string }{
		{"dir:///srv/depot", "dir:///srv/depot"},
		{"dir:///srv/depot/", "dir:///srv/depot"},
		{"dir:///srv//depot/./", "dir:///srv/depot"},
		{"dir://depot/", "dir://" + filepath.Join(cwd, "depot")},
		{"dir://./depot", "dir://" + filepath.Join(cwd, "depot")},
		{"s3://bucket/apogee/?region=eu&endpoint=https://S3.Example.org:443/", "s3://bucket/apogee?endpoint=https://s3.example.org&region=eu"},
		{"s3://bucket//apogee", "s3://bucket/apogee"},
		{"s3://bucket/", "s3://bucket"},
		{"vitam+https://VITAM.example.org:443/?tenant=1", "vitam+https://vitam.example.org?tenant=1"},
	} {
		if got := ledger.NormalizeTarget(tc.in); got != tc.want {
			t.Errorf("NormalizeTarget(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Lookup (and so Send's exactly-once) finds a SIP whatever the spelling of its target.
func TestLookupNormalisesTheTarget(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := entry(0)
	e.Target = "s3://depot/apogee/?path-style=true&endpoint=http://127.0.0.1:9000"
	if e, err = l.Append(e); err != nil || e.Target != "s3://depot/apogee?endpoint=http://127.0.0.1:9000&path-style=true" {
		t.Fatalf("recorded target %q, %v", e.Target, err)
	}
	for _, spelling := range []string{
		"s3://depot/apogee?endpoint=http://127.0.0.1:9000&path-style=true",
		"s3://depot/apogee?endpoint=http://127.0.0.1:9000/&region=eu-west-3",
	} {
		if !l.Recorded(spelling, e.SIP) {
			t.Errorf("not found at %s", spelling)
		}
	}
	if l.Recorded("s3://depot/other?endpoint=http://127.0.0.1:9000", e.SIP) || l.Recorded("s3://depot/apogee", e.SIP) {
		t.Error("found at another prefix or endpoint")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The head file follows every append, and verify catches what the chain alone cannot: the last
// line deleted, the ledger emptied, an entry removed and the chain recomputed, the last entry
// replaced and the chain recomputed.
func TestHeadDetectsWhatTheChainCannot(t *testing.T) {
	ctx := context.Background()
	p := write(t, 4)
	hp := filepath.Join(filepath.Dir(p), "ledger.head")
	if ledger.HeadPath(p) != hp {
		t.Fatalf("head path %s", ledger.HeadPath(p))
	}
	rep, err := ledger.Verify(ctx, p, nil)
	if err != nil || !rep.OK() || len(rep.Heads) != 1 || !rep.Heads[0].OK {
		t.Fatalf("clean: %+v %v", rep, err)
	}
	if got, want := readFile(t, hp), "4:"+rep.Last+"\n"; got != want {
		t.Fatalf("ledger.head %q, want %q", got, want)
	}
	orig := []byte(readFile(t, p))
	lines := bytes.SplitAfter(orig, []byte("\n"))[:4]
	var hashes []string
	ledger.Read(p, func(e ledger.Entry) { hashes = append(hashes, e.Hash) })
	short := func(h string) string { return h[:12] + "…" }

	// A chain rebuilt without entry 2 (sip-b) and one with another last entry, both well chained.
	rebuilt := func(idx ...int) []byte {
		q := filepath.Join(t.TempDir(), "l.jsonl")
		l, _ := ledger.Open(q)
		for _, i := range idx {
			if _, err := l.Append(entry(i)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		b, _ := os.ReadFile(q)
		return b
	}
	withoutB := rebuilt(0, 2, 3)
	otherLast := rebuilt(0, 1, 2, 5)
	var otherHash string
	for _, l := range bytes.Split(otherLast, []byte("\n")) {
		if i := bytes.Index(l, []byte(`"hash":"`)); i >= 0 {
			otherHash = string(l[i+8 : i+8+64])
		}
	}
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"last line deleted", bytes.Join(lines[:3], nil), hp + " records 4 entries ending with " + short(hashes[3]) + ", the ledger has 3: entries were removed"},
		{"emptied", nil, hp + " records 4 entries ending with " + short(hashes[3]) + ", the ledger has 0: entries were removed"},
		{"entry removed, chain recomputed", withoutB, hp + " records 4 entries ending with " + short(hashes[3]) + ", the ledger has 3: entries were removed"},
		{"last entry replaced, chain recomputed", otherLast, hp + " records 4 entries ending with " + short(hashes[3]) + ", but entry 4 has the hash " + short(otherHash) + ": the ledger was rewritten"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(p, tc.content, 0o644)
			rep, err := ledger.Verify(ctx, p, nil)
			if err != nil || rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].String() != tc.want {
				t.Fatalf("got %+v %v\nwant the problem %q", rep, err, tc.want)
			}
			// No one appends to it either.
			_, err = ledger.Open(p)
			if err == nil || !strings.Contains(err.Error(), "does not match its head: "+tc.want+"; refusing to append") {
				t.Fatalf("open: %v", err)
			}
		})
	}

	// The head file removed: verify says the proof is gone.
	os.WriteFile(p, orig, 0o644)
	os.Remove(hp)
	rep, _ = ledger.Verify(ctx, p, nil)
	want := hp + " is missing: nothing shows whether entries were removed from the end of the ledger (give --head COUNT:HASH from a run report to check against a head published elsewhere)"
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].String() != want {
		t.Fatalf("no head: %+v", rep)
	}
	// The next writer puts it back.
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if h := l.Head(); h.String() != "4:"+hashes[3] || readFile(t, hp) != h.String()+"\n" {
		t.Fatalf("head %s, file %q", h, readFile(t, hp))
	}
	l.Close()
}

// A head published elsewhere (a run report): the ledger may have grown since, never shrunk.
func TestVerifyAgainstAPublishedHead(t *testing.T) {
	ctx := context.Background()
	p := write(t, 4)
	var hashes []string
	ledger.Read(p, func(e ledger.Entry) { hashes = append(hashes, e.Hash) })
	for _, tc := range []struct {
		head  string
		extra int64
		want  string
	}{
		{"2:" + hashes[1], 2, ""},
		{"4:" + strings.ToUpper(hashes[3]), 0, ""},
		{hashes[2], 1, ""},
		{"0:" + ledger.Genesis, 4, ""},
		{"5:" + hashes[3], 0, "--head records 5 entries ending with " + hashes[3][:12] + "…, the ledger has 4: entries were removed"},
		{"3:" + hashes[3], 0, "--head records 3 entries ending with " + hashes[3][:12] + "…, but entry 3 has the hash " + hashes[2][:12] + "…: the ledger was rewritten"},
		{strings.Repeat("ab", 32), 0, "--head no entry has the hash abababababab…: the entry it names was removed or altered, or the chain was recomputed"},
	} {
		h, err := ledger.ParseHead(tc.head)
		if err != nil {
			t.Fatalf("%s: %v", tc.head, err)
		}
		rep, err := ledger.VerifyWith(ctx, p, ledger.VerifyOptions{Head: &h})
		if err != nil || len(rep.Heads) != 2 {
			t.Fatalf("%s: %+v %v", tc.head, rep, err)
		}
		got := ""
		if len(rep.Problems) > 0 {
			got = rep.Problems[0].String()
		}
		if got != tc.want || rep.OK() != (tc.want == "") || (tc.want == "" && rep.Heads[1].Extra != tc.extra) {
			t.Errorf("--head %s: %+v\nwant problem %q", tc.head, rep, tc.want)
		}
	}
	for in, want := range map[string]string{
		"abc":                          `"abc": want HASH or COUNT:HASH (HASH 64 hex digits, as ledger.head and the run report give it)`,
		"x:" + hashes[0]:               `"x:` + hashes[0] + `": want HASH or COUNT:HASH (COUNT a number of entries)`,
		"0:" + hashes[0]:               `"0:` + hashes[0] + `": an empty ledger's head is 0:` + ledger.Genesis,
		"-1:" + hashes[0]:              `"-1:` + hashes[0] + `": want HASH or COUNT:HASH (COUNT a number of entries)`,
		"4:" + hashes[3] + "0":         `"4:` + hashes[3] + `0": want HASH or COUNT:HASH (HASH 64 hex digits, as ledger.head and the run report give it)`,
		"4:" + strings.Repeat("g", 64): `"4:` + strings.Repeat("g", 64) + `": want HASH or COUNT:HASH (HASH 64 hex digits, as ledger.head and the run report give it)`,
	} {
		if _, err := ledger.ParseHead(in); err == nil || err.Error() != want {
			t.Errorf("ParseHead(%q): %v, want %s", in, err, want)
		}
	}
}

// A crash between an append's fsync and the head's update leaves the head one entry behind: verify
// notes it and holds, the next Open brings the head up to date.
func TestHeadBehindTheLedgerIsBroughtUpToDate(t *testing.T) {
	p := write(t, 3)
	var hashes []string
	ledger.Read(p, func(e ledger.Entry) { hashes = append(hashes, e.Hash) })
	hp := ledger.HeadPath(p)
	os.WriteFile(hp, []byte("2:"+hashes[1]+"\n"), 0o644)
	rep, err := ledger.Verify(context.Background(), p, nil)
	want := hp + " records 2 entries, the ledger has 3 and extends it: the head was not updated after the last append (an interrupted run; the next run updates it)"
	if err != nil || !rep.OK() || len(rep.Notes) != 1 || rep.Notes[0] != want {
		t.Fatalf("%+v %v\nwant the note %q", rep, err, want)
	}
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if got := readFile(t, hp); got != "3:"+hashes[2]+"\n" {
		t.Fatalf("head after open: %q", got)
	}
	if fi, _ := os.Stat(hp); fi.Mode().Perm() != 0o644 {
		t.Errorf("head mode %v", fi.Mode())
	}
}

func sendAll(t *testing.T, l *ledger.Ledger, tg transfer.Target, names ...string) []transfer.SIP {
	t.Helper()
	var sips []transfer.SIP
	for _, n := range names {
		src := filepath.Join(t.TempDir(), n)
		os.WriteFile(src, []byte("content of "+n), 0o644)
		sip := transfer.SIP{Name: n, Path: src, MessageID: "MSG-" + n, Origin: transfer.Origin{Tier: "final"}}
		if _, _, err := l.Send(context.Background(), tg, sip, ledger.Batch{FirstKey: "1", LastKey: "9", Count: 9}); err != nil {
			t.Fatal(err)
		}
		sip.Prepare(context.Background())
		sips = append(sips, sip)
	}
	return sips
}

// A last line torn after it was committed (the head counts it) is cut so that runs go on; the SIP
// it recorded is re-recorded from the caller's state, with a note, and the ledger holds again.
func TestTornCommittedEntryIsReRecorded(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tg, _ := dir.New(root)
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	sips := sendAll(t, l, tg, "a.zip", "b.zip")
	l.Close()
	fi, _ := os.Stat(p)
	os.Truncate(p, fi.Size()-20)

	rep, _ := ledger.Verify(ctx, p, tg)
	hp := ledger.HeadPath(p)
	want := []string{
		"line 2: incomplete last line, which " + hp + " counts as a committed entry: the line was damaged or cut, not left by an interrupted append",
		hp + " records 2 entries ending with " + readFile(t, hp)[2:14] + "…, the ledger has 1: entries were removed",
		"SIP b.zip: at " + tg.String() + " but not in the ledger",
	}
	if got := problems(rep); rep.OK() || !rep.TornTail || got != strings.Join(want, "\n") {
		t.Fatalf("verify: %+v\n%s\nwant\n%s", rep, got, strings.Join(want, "\n"))
	}

	l, err = ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if c, ok := l.Cut(); !ok || c != (ledger.Cut{Line: 2, SIP: "b.zip", Committed: true}) {
		t.Fatalf("cut: %+v %v", c, ok)
	}
	if l.Recorded(tg.String(), "b.zip") || !l.Recorded(tg.String(), "a.zip") {
		t.Fatal("recorded")
	}
	// What the pipeline's state knows about each SIP it marked sent.
	for i, sip := range sips {
		state := transfer.SIP{Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256, MessageID: sip.MessageID, Origin: sip.Origin}
		e, added, err := l.Reconcile(ctx, tg, state, ledger.Batch{FirstKey: "1", LastKey: "9", Count: 9}, int64(i+1))
		if err != nil || added != (i == 1) {
			t.Fatalf("reconcile %s: %+v %v %v", sip.Name, e, added, err)
		}
		if i == 1 {
			want := "re-recorded from the run state, which marks it sent as ledger entry 2: its entry was lost in a torn last line (line 2) cut off when the ledger was opened; found at the target with its SHA-256"
			if e.Note != want || e.Seq != 2 || e.Status != ledger.StatusStored || e.SHA256 != sip.SHA256 || e.Count != 9 || e.Tier != "final" || !e.Receipt.AlreadyThere {
				t.Fatalf("re-recorded entry %+v\nwant the note %q", e, want)
			}
		}
	}
	if !l.Recorded(tg.String(), "b.zip") {
		t.Fatal("b.zip not recorded after reconcile")
	}
	rep, err = ledger.Verify(ctx, p, tg)
	if err != nil || !rep.OK() || rep.Checked != 2 || rep.Entries != 2 {
		t.Fatalf("after reconcile: %+v %v", rep, err)
	}

	// The state says sent, but the target lost it: the caller must build it again.
	os.Remove(filepath.Join(root, "b.zip"))
	_, _, err = l.Reconcile(ctx, tg, transfer.SIP{Name: "c.zip", Size: 3, SHA256: sips[0].SHA256}, ledger.Batch{}, 0)
	want = []string{"SIP c.zip: the state marks it sent to " + tg.String() + ", but neither the ledger nor the target has it: " + filepath.Join(root, "c.zip") + ": not at the target"}
	if !errors.Is(err, transfer.ErrNotExist) || err.Error() != want[0] {
		t.Fatalf("lost at the target: %v\nwant %s", err, want)
	}
	_, _, err = l.Reconcile(ctx, tg, transfer.SIP{Name: "a.zip", SHA256: strings.Repeat("0", 64)}, ledger.Batch{}, 0)
	if !errors.Is(err, transfer.ErrConflict) {
		t.Fatalf("other digest: %v", err)
	}
}

// An interrupted append (the head does not count the line) is cut as before, and says so.
func TestTornUncommittedLine(t *testing.T) {
	p := write(t, 1)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"seq":2,"time":"2026-01-01T00:00:00Z","prev":"x","status":"stored","sip":"sip-\"q\".zip","mess`)
	f.Close()
	rep, _ := ledger.Verify(context.Background(), p, nil)
	if rep.OK() || !rep.TornTail || len(rep.Problems) != 1 {
		t.Fatalf("verify: %+v", rep)
	}
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if c, ok := l.Cut(); !ok || c != (ledger.Cut{Line: 2, SIP: `sip-"q".zip`}) {
		t.Fatalf("cut: %+v %v", c, ok)
	}
}

// verify --target names every object at the target that the ledger does not list, and every SIP
// recorded twice; the ledger's own files inside the target folder are not SIPs.
func TestVerifyNamesUnlistedAndTwiceRecorded(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	tg, _ := dir.New(root)
	p := filepath.Join(root, "ledger.jsonl") // the ledger inside the target's folder
	l, err := ledger.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, l, tg, "a.zip", "b.zip")
	var a ledger.Entry
	l.Entries(func(e ledger.Entry) error {
		if a.SIP == "" {
			a = e
		}
		return nil
	})
	a.Note = "a second time"
	if _, err := l.Append(a); err != nil {
		t.Fatal(err)
	}
	l.Close()
	os.WriteFile(filepath.Join(root, "stray.zip"), []byte("not sent by versement"), 0o644)
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "sub", "x.zip"), []byte("x"), 0o644)
	rep, err := ledger.Verify(ctx, p, tg)
	want := []string{
		"line 3 (SIP a.zip): recorded a second time as stored at " + tg.String() + " (first at line 1, with the same SHA-256)",
		"SIP stray.zip: at " + tg.String() + " but not in the ledger",
		"SIP sub/x.zip: at " + tg.String() + " but not in the ledger",
	}
	if err != nil || rep.OK() || problems(rep) != strings.Join(want, "\n") || rep.Extra != 2 || rep.Checked != 2 {
		t.Fatalf("got %+v %v\n%s\nwant\n%s", rep, err, problems(rep), strings.Join(want, "\n"))
	}
}

// The target URL given to verify is matched with the recorded one whatever its spelling; when no
// entry names it, nothing is checked and the report says which targets the entries name.
func TestVerifyTargetSpelling(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	t.Chdir(base)
	tg, _ := dir.New("depot") // a relative path: recorded absolute
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, _ := ledger.Open(p)
	sendAll(t, l, tg, "a.zip")
	l.Close()
	abs := filepath.Join(base, "depot")
	if b := readFile(t, p); !strings.Contains(b, `"target":"dir://`+abs+`"`) {
		t.Fatalf("recorded target: %s", b)
	}
	for _, spelling := range []string{"depot", "depot/", "./depot", abs, abs + "/", abs + "//"} {
		st, _ := dir.New(spelling)
		rep, err := ledger.Verify(ctx, p, st)
		if err != nil || !rep.OK() || rep.Checked != 1 || rep.Target != "dir://"+abs {
			t.Errorf("%s: %+v %v", spelling, rep, err)
		}
	}
	other, _ := dir.New(filepath.Join(base, "other"))
	rep, err := ledger.Verify(ctx, p, other)
	want := "no ledger entry was recorded for target dir://" + filepath.Join(base, "other") + "; entries name: dir://" + abs + " (1)"
	if err != nil || rep.OK() || rep.Unchecked != want || len(rep.Problems) != 0 {
		t.Fatalf("other target: %+v %v\nwant %q", rep, err, want)
	}
}

func problems(rep ledger.Audit) string {
	var s []string
	for _, p := range rep.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

// vitamLike is a target that cannot be asked for a stored SIP's checksum.
type vitamLike struct{ transfer.Target }

func (vitamLike) String() string { return "vitam+https://VITAM.example.org:443/?tenant=1&poll=5s" }
func (vitamLike) Stat(context.Context, string) (transfer.Object, error) {
	return transfer.Object{}, transfer.ErrNotSupported
}
func (vitamLike) List(context.Context, func(transfer.Object) error) error {
	return transfer.ErrNotSupported
}

// Entries at a target where none can be checked: the report says why instead of OK.
func TestVerifyNothingCheckable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, _ := ledger.Open(p)
	for i, st := range []string{ledger.StatusAccepted, ledger.StatusAccepted, ledger.StatusRejected} {
		e := entry(i)
		e.Target, e.Status = "vitam+https://vitam.example.org?poll=60s&tenant=1", st
		l.Append(e)
	}
	l.Close()
	rep, err := ledger.Verify(context.Background(), p, vitamLike{})
	want := "none of the 3 SIPs recorded for vitam+https://vitam.example.org?poll=5s&tenant=1 is recorded as stored there (2 accepted, 1 rejected): only stored SIPs can be checked at a target (VITAM's receipt is its ATR)"
	if err != nil || rep.OK() || rep.Unchecked != want || rep.Skipped != 3 {
		t.Fatalf("%+v %v\nwant %q", rep, err, want)
	}
	// Stored there, but the target cannot say what it holds.
	p = write(t, 1)
	l, _ = ledger.Open(p)
	e := entry(1)
	e.Target = "vitam+https://vitam.example.org?tenant=1"
	l.Append(e)
	l.Close()
	rep, _ = ledger.Verify(context.Background(), p, vitamLike{})
	want = "vitam+https://vitam.example.org?poll=5s&tenant=1 cannot be asked for a stored SIP's checksum: none of the 1 entries recorded there could be checked"
	if rep.OK() || rep.Unchecked != want {
		t.Fatalf("%+v\nwant %q", rep, want)
	}
	// An empty ledger proves nothing about a target.
	p = write(t, 0)
	rep, _ = ledger.Verify(context.Background(), p, vitamLike{})
	if want = "the ledger has no entries to check at vitam+https://vitam.example.org?poll=5s&tenant=1"; rep.OK() || rep.Unchecked != want {
		t.Fatalf("%+v\nwant %q", rep, want)
	}
}
