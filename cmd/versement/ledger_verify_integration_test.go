package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
)

// transferred sends n small SIPs to dir://DEPOT through `versement transfer` with a ledger, and
// returns the ledger's path and the depot.
func transferred(t *testing.T, n int) (led, depot string) {
	t.Helper()
	src := t.TempDir()
	depot = filepath.Join(t.TempDir(), "depot")
	led = filepath.Join(t.TempDir(), "ledger.jsonl")
	args := []string{"transfer", "--target", "dir://" + depot, "--ledger", led}
	for i := 1; i <= n; i++ {
		p, _ := makeSIP(t, src, "apogee-final-000"+string(rune('0'+i))+".zip", "APOGEE-000"+string(rune('0'+i)))
		args = append(args, p)
	}
	if out, code := run(t, args...); code != exitOK {
		t.Fatalf("transfer (%d):\n%s", code, out)
	}
	return led, depot
}

func wantOutput(t *testing.T, what, out string, code, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d\n%s", what, code, wantCode, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q\n%s", what, w, out)
		}
	}
}

// The target given to verify is matched with the recorded one whatever its spelling; a target no
// entry names, or a folder that does not exist, fails instead of saying OK with nothing checked.
func TestVerifyLedgerTargetSpelling(t *testing.T) {
	led, depot := transferred(t, 2)
	t.Chdir(filepath.Dir(depot))
	for _, spelling := range []string{"dir://" + depot, "dir://" + depot + "/", "dir://depot", "dir://./depot/"} {
		out, code := run(t, "verify", "--ledger", led, "--target", spelling)
		wantOutput(t, spelling, out, code, exitOK, "target dir://"+depot+": 2 SIPs present with their recorded SHA-256, 0 entries not checkable there, 0 objects not in the ledger\n", "\nOK\n")
	}

	// Sending again through another spelling of the same folder sends and records nothing.
	a, _ := makeSIP(t, t.TempDir(), "apogee-final-0001.zip", "APOGEE-0001")
	out, code := run(t, "transfer", "--target", "dir://./depot/", "--ledger", led, a)
	wantOutput(t, "transfer, respelled", out, code, exitOK, "recorded ")
	if h := ledgerHashes(t, led); len(h) != 2 {
		t.Errorf("%d entries after a respelled transfer", len(h))
	}

	other := filepath.Join(filepath.Dir(depot), "other")
	os.Mkdir(other, 0o755)
	why := "no ledger entry was recorded for target dir://" + other + "; entries name: dir://" + depot + " (2)"
	out, code = run(t, "verify", "--ledger", led, "--target", "dir://other/")
	wantOutput(t, "another folder", out, code, exitFindings,
		"target dir://"+other+": 0 SIPs present with their recorded SHA-256, 2 entries not checkable there, 0 objects not in the ledger\n",
		"\nNOT CHECKED "+why+"\n",
		"\nERR: verify: ledger "+led+": nothing was checked at the target: "+why+"\n")
	if strings.Contains(out, "\nOK\n") {
		t.Errorf("another folder: OK printed\n%s", out)
	}
	out, code = run(t, "verify", "--json", "--ledger", led, "--target", "dir://"+other)
	var jr struct {
		OK        bool   `json:"ok"`
		Unchecked string `json:"unchecked"`
		Heads     []ledger.HeadCheck
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\nERR: ", 2)[0]), &jr); err != nil || code != exitFindings || jr.OK || jr.Unchecked != why || len(jr.Heads) != 1 || !jr.Heads[0].OK {
		t.Errorf("--json: exit %d, %v %+v\n%s", code, err, jr, out)
	}

	gone := filepath.Join(filepath.Dir(depot), "typo")
	out, code = run(t, "verify", "--ledger", led, "--target", "dir://"+gone)
	wantOutput(t, "a folder that does not exist", out, code, exitFindings,
		"\nERR: verify: ledger "+led+": nothing was checked at the target: no ledger entry was recorded for target dir://"+gone+"; entries name: dir://"+depot+" (2) (the folder "+gone+" does not exist)\n")
	if _, err := os.Stat(gone); err == nil {
		t.Error("verify created the target folder")
	}
	// The recorded folder gone: every SIP is missing.
	os.Rename(depot, depot+".moved")
	out, code = run(t, "verify", "--ledger", led, "--target", "dir://"+depot)
	wantOutput(t, "the recorded folder gone", out, code, exitFindings,
		"BROKEN line 1 (SIP apogee-final-0001.zip): recorded as stored but missing at dir://"+depot+"\n",
		"BROKEN line 2 (SIP apogee-final-0002.zip): recorded as stored but missing at dir://"+depot+"\n",
		"note: the folder "+depot+" does not exist\n",
		"ERR: verify: ledger "+led+" does not hold\n")
}

// An S3 target spelled with a trailing slash, parameters in another order, an endpoint with a
// trailing slash and a region is the one recorded; another prefix is not.
func TestVerifyLedgerS3Spelling(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	target := "s3://depot/apogee?endpoint=" + s.Endpoint + "&path-style=true"
	tg, err := ts3.Open(context.Background(), target, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("depot")}); err != nil {
		t.Fatal(err)
	}
	a, _ := makeSIP(t, t.TempDir(), "a.zip", "MSG-A")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	if out, code := run(t, "transfer", "--target", target, "--ledger", led, a); code != exitOK {
		t.Fatalf("transfer (%d):\n%s", code, out)
	}
	recorded := "s3://depot/apogee?endpoint=" + s.Endpoint + "&path-style=true"
	respelled := "s3://depot/apogee/?region=us-east-1&path-style=true&endpoint=" + s.Endpoint + "/"
	out, code := run(t, "verify", "--ledger", led, "--target", respelled)
	wantOutput(t, "respelled", out, code, exitOK, "target s3://depot/apogee?endpoint="+s.Endpoint+"&path-style=true&region=us-east-1: 1 SIPs present with their recorded SHA-256", "\nOK\n")

	out, code = run(t, "verify", "--ledger", led, "--target", "s3://depot/apogee2?endpoint="+s.Endpoint+"&path-style=true")
	wantOutput(t, "another prefix", out, code, exitFindings,
		"NOT CHECKED no ledger entry was recorded for target s3://depot/apogee2?endpoint="+s.Endpoint+"&path-style=true; entries name: "+recorded+" (1)\n")

	// An object put behind the ledger's back is named.
	if _, err := tg.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("depot"), Key: aws.String("apogee/stray.zip"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, "verify", "--ledger", led, "--target", target)
	wantOutput(t, "stray object", out, code, exitFindings, "BROKEN SIP stray.zip: at "+recorded+" but not in the ledger\n")
	if strings.Contains(out, s.SecretKey) {
		t.Fatal("secret in output")
	}
}

func ledgerHashes(t *testing.T, led string) []string {
	t.Helper()
	var h []string
	if _, err := ledger.Read(led, func(e ledger.Entry) { h = append(h, e.Hash) }); err != nil {
		t.Fatal(err)
	}
	return h
}

// rechain writes the entries of led except those at the skipped positions (0-based) as a new,
// well-chained ledger over led, as someone removing an entry and recomputing the chain would; with
// head, the head file too.
func rechain(t *testing.T, led string, head bool, skip ...int) {
	t.Helper()
	var ents []ledger.Entry
	ledger.Read(led, func(e ledger.Entry) { ents = append(ents, e) })
	q := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := ledger.Open(q)
	if err != nil {
		t.Fatal(err)
	}
next:
	for i, e := range ents {
		for _, s := range skip {
			if s == i {
				continue next
			}
		}
		e.Seq, e.Prev, e.Hash = 0, "", ""
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	b, _ := os.ReadFile(q)
	os.WriteFile(led, b, 0o644)
	if head {
		b, _ = os.ReadFile(ledger.HeadPath(q))
		os.WriteFile(ledger.HeadPath(led), b, 0o644)
	}
}

// The ledger's head (ledger.head beside it, --head from elsewhere) shows what the chain cannot:
// the last line deleted, the ledger emptied, an entry removed and the chain recomputed.
func TestVerifyLedgerHead(t *testing.T) {
	led, _ := transferred(t, 3)
	hp := filepath.Join(filepath.Dir(led), "ledger.head")
	h := ledgerHashes(t, led)
	b, err := os.ReadFile(hp)
	if err != nil || string(b) != "3:"+h[2]+"\n" {
		t.Fatalf("ledger.head: %q %v", b, err)
	}
	out, code := run(t, "verify", "--ledger", led)
	wantOutput(t, "intact", out, code, exitOK, "ledger "+led+": 3 entries chained, last hash "+h[2]+"\nhead 3:"+h[2]+" ("+hp+"): holds\nOK\n")
	out, code = run(t, "verify", "--ledger", led, "--head", "2:"+h[1])
	wantOutput(t, "published head", out, code, exitOK, "head 2:"+h[1]+" (--head): holds, 1 entries appended since\n")
	out, code = run(t, "verify", "--ledger", led, "--head", "2:"+h[2])
	wantOutput(t, "wrong published head", out, code, exitFindings,
		"head 2:"+h[2]+" (--head): does not match\n",
		"BROKEN --head records 2 entries ending with "+h[2][:12]+"…, but entry 2 has the hash "+h[1][:12]+"…: the ledger was rewritten\n")
	out, code = run(t, "verify", "--ledger", led, "--head", "3:"+h[2][:40])
	wantOutput(t, "bad --head", out, code, exitError,
		`ERR: verify: ledger `+led+`: --head "3:`+h[2][:40]+`": want HASH or COUNT:HASH (HASH 64 hex digits, as ledger.head and the run report give it)`+"\n")
	out, code = run(t, "verify", "--head", h[2])
	wantOutput(t, "--head alone", out, code, exitError, "ERR: verify: --head checks a ledger: give --ledger FILE too\n")

	orig, _ := os.ReadFile(led)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	removed := "BROKEN " + hp + " records 3 entries ending with " + h[2][:12] + "…, the ledger has 2: entries were removed\n"

	os.WriteFile(led, bytes.Join(lines[:2], nil), 0o644)
	out, code = run(t, "verify", "--ledger", led)
	wantOutput(t, "last line deleted", out, code, exitFindings, "head 3:"+h[2]+" ("+hp+"): does not match\n", removed, "ERR: verify: ledger "+led+" does not hold\n")

	os.WriteFile(led, nil, 0o644)
	out, code = run(t, "verify", "--ledger", led)
	wantOutput(t, "emptied", out, code, exitFindings, "BROKEN "+hp+" records 3 entries ending with "+h[2][:12]+"…, the ledger has 0: entries were removed\n")

	os.WriteFile(led, orig, 0o644)
	rechain(t, led, false, 1)
	out, code = run(t, "verify", "--ledger", led)
	wantOutput(t, "entry removed, chain recomputed", out, code, exitFindings, "ledger "+led+": 2 entries chained", removed)
	// And the writer refuses to append to it.
	a, _ := makeSIP(t, t.TempDir(), "x.zip", "X")
	out, code = run(t, "transfer", "--target", "dir://"+t.TempDir(), "--ledger", led, a)
	wantOutput(t, "transfer to a shortened ledger", out, code, exitError, "does not match its head: "+strings.TrimPrefix(strings.TrimSuffix(removed, "\n"), "BROKEN ")+"; refusing to append")

	// With the head file recomputed too, only a head published elsewhere shows it.
	os.WriteFile(led, orig, 0o644)
	os.WriteFile(hp, []byte("3:"+h[2]+"\n"), 0o644)
	rechain(t, led, true, 1)
	if out, code = run(t, "verify", "--ledger", led); code != exitOK {
		t.Fatalf("rechained with its head (%d):\n%s", code, out)
	}
	out, code = run(t, "verify", "--ledger", led, "--head", "3:"+h[2])
	wantOutput(t, "rechained, published head", out, code, exitFindings, "BROKEN --head records 3 entries ending with "+h[2][:12]+"…, the ledger has 2: entries were removed\n")
	out, code = run(t, "verify", "--ledger", led, "--head", h[2])
	wantOutput(t, "rechained, published hash", out, code, exitFindings, "BROKEN --head no entry has the hash "+h[2][:12]+"…: the entry it names was removed or altered, or the chain was recomputed\n")

	// The head file gone: verify says the proof is gone.
	os.WriteFile(led, orig, 0o644)
	os.Remove(hp)
	out, code = run(t, "verify", "--ledger", led)
	wantOutput(t, "no head file", out, code, exitFindings, "BROKEN "+hp+" is missing: nothing shows whether entries were removed from the end of the ledger (give --head COUNT:HASH from a run report to check against a head published elsewhere)\n")
	out, code = run(t, "verify", "--ledger", led, "--head", "3:"+h[2])
	wantOutput(t, "no head file, published head", out, code, exitOK, "note: "+hp+" is missing\n", "\nOK\n")
}

// verify --target names what is at the target but not in the ledger, and a SIP recorded twice.
func TestVerifyLedgerUnlistedAndTwiceRecorded(t *testing.T) {
	led, depot := transferred(t, 2)
	os.WriteFile(filepath.Join(depot, "sent-by-hand.zip"), []byte("x"), 0o644)
	out, code := run(t, "verify", "--ledger", led, "--target", "dir://"+depot)
	wantOutput(t, "stray file", out, code, exitFindings,
		"target dir://"+depot+": 2 SIPs present with their recorded SHA-256, 0 entries not checkable there, 1 objects not in the ledger\n",
		"BROKEN SIP sent-by-hand.zip: at dir://"+depot+" but not in the ledger\n")
	os.Remove(filepath.Join(depot, "sent-by-hand.zip"))

	// An entry removed (and the chain and head recomputed): its SIP is still at the target.
	orig, _ := os.ReadFile(led)
	origHead, _ := os.ReadFile(ledger.HeadPath(led))
	rechain(t, led, true, 0)
	out, code = run(t, "verify", "--ledger", led, "--target", "dir://"+depot)
	wantOutput(t, "entry removed", out, code, exitFindings, "BROKEN SIP apogee-final-0001.zip: at dir://"+depot+" but not in the ledger\n")
	os.WriteFile(led, orig, 0o644)
	os.WriteFile(ledger.HeadPath(led), origHead, 0o644)

	l, err := ledger.Open(led)
	if err != nil {
		t.Fatal(err)
	}
	var first ledger.Entry
	l.Entries(func(e ledger.Entry) error {
		if first.SIP == "" {
			first = e
		}
		return nil
	})
	first.Target = "dir://" + depot + "/" // spelled differently: still the same target
	if _, err := l.Append(first); err != nil {
		t.Fatal(err)
	}
	l.Close()
	out, code = run(t, "verify", "--ledger", led)
	wantOutput(t, "twice", out, code, exitFindings, "BROKEN line 3 (SIP apogee-final-0001.zip): recorded a second time as stored at dir://"+depot+" (first at line 1, with the same SHA-256)\n")
}

// A last line cut after it was committed: verify says so; the next transfer cuts it and records
// the SIP again (it is found at the target), and the ledger holds again.
func TestVerifyLedgerTornCommittedLine(t *testing.T) {
	led, depot := transferred(t, 2)
	fi, _ := os.Stat(led)
	os.Truncate(led, fi.Size()-30)
	hp := ledger.HeadPath(led)
	out, code := run(t, "verify", "--ledger", led, "--target", "dir://"+depot)
	wantOutput(t, "torn", out, code, exitFindings,
		"BROKEN line 2: incomplete last line, which "+hp+" counts as a committed entry: the line was damaged or cut, not left by an interrupted append\n",
		"BROKEN SIP apogee-final-0002.zip: at dir://"+depot+" but not in the ledger\n")
	b, _ := makeSIP(t, t.TempDir(), "apogee-final-0002.zip", "APOGEE-0002")
	out, code = run(t, "transfer", "--target", "dir://"+depot, "--ledger", led, b)
	wantOutput(t, "transfer after the cut", out, code, exitOK, "already-there")
	out, code = run(t, "verify", "--ledger", led, "--target", "dir://"+depot)
	wantOutput(t, "after", out, code, exitOK, "2 SIPs present with their recorded SHA-256", "\nOK\n")
}
