package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	ts3 "github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// makeSIP writes a small SIP zip, one dossier with one JSON file, that versement verify finds OK,
// and returns its path and the SHA-256 of its manifest.
func makeSIP(t *testing.T, dir, name, msgID string) (string, string) {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: msgID, Date: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC),
		ArchivalAgency: "A", TransferringAgency: "T"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := sw.AddObject(seda.Object{Name: "data.json", MimeType: "application/json"}, strings.NewReader(`{"dossier":"`+msgID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: msgID}, Groups: []seda.GroupID{o.Group()}}); err != nil {
		t.Fatal(err)
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, sum.ManifestSHA256
}

// makeCorruptSIP writes makeSIP's package with one changed byte in Content/data.json and the
// entry's CRC left as it was: the zip still opens and its manifest reads, as with a disk or copy
// error, but the file fails its CRC and its digest.
func makeCorruptSIP(t *testing.T, dir, name, msgID string) string {
	t.Helper()
	good, _ := makeSIP(t, t.TempDir(), name, msgID)
	zr, err := zip.OpenReader(good)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		fh := e.FileHeader
		fh.Method = zip.Store
		fh.CompressedSize64, fh.UncompressedSize64 = uint64(len(data)), uint64(len(data))
		if e.Name == "Content/data.json" {
			data[len(data)-2] ^= 1
		}
		w, err := zw.CreateRaw(&fh)
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// makeBareSIP writes a zip with a SEDA header and a file, but no DataObjectPackage: verify
// finds it damaged (what makeSIP wrote before transfer verified SIPs).
func makeBareSIP(t *testing.T, dir, name, msgID string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("manifest.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1">
  <Date>2025-01-15T10:00:00</Date>
  <MessageIdentifier>` + msgID + `</MessageIdentifier>
  <CodeListVersions/>
  <ArchivalAgency><Identifier>A</Identifier></ArchivalAgency>
  <TransferringAgency><Identifier>T</Identifier></TransferringAgency>
</ArchiveTransfer>
`))
	w, _ = zw.Create("Content/data.json")
	w.Write([]byte(`{"dossier":"` + msgID + `"}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestTransferToFolderOnceAndVerifyLedger(t *testing.T) {
	src, depot := t.TempDir(), t.TempDir()
	a, aDigest := makeSIP(t, src, "apogee-final-0001.zip", "APOGEE-0001")
	b, _ := makeSIP(t, src, "apogee-final-0002.zip", "APOGEE-0002")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	target := "dir://" + depot

	out, code := run(t, "transfer", "--target", target, "--ledger", led, "--profile", "apogee", "--tier", "final", a, b)
	if code != exitOK || strings.Count(out, "sent ") != 2 {
		t.Fatalf("first run (%d):\n%s", code, out)
	}
	out, code = run(t, "transfer", "--target", target, "--ledger", led, a, b)
	if code != exitOK || strings.Count(out, "recorded ") != 2 {
		t.Fatalf("rerun must send nothing (%d):\n%s", code, out)
	}
	var ents []ledger.Entry
	rep, err := ledger.Read(led, func(e ledger.Entry) { ents = append(ents, e) })
	if err != nil || !rep.OK() || len(ents) != 2 {
		t.Fatalf("ledger: %+v %v", rep, err)
	}
	e := ents[0]
	if e.MessageID != "APOGEE-0001" || e.ManifestDigest != (transfer.Digest{Algo: "SHA-256", Value: aDigest}) || e.Profile != "apogee" || e.Tier != "final" || e.Target != target {
		t.Errorf("entry %+v", e)
	}
	if sum, _ := transfer.FileSHA256(a); e.SHA256 != sum {
		t.Errorf("recorded sha256 %s, SIP has %s", e.SHA256, sum)
	}

	var buf bytes.Buffer
	ok, err := verifyLedger(context.Background(), &buf, led, target, false)
	if err != nil || !ok || !strings.Contains(buf.String(), "2 SIPs present with their recorded SHA-256") {
		t.Fatalf("verify: %v %v\n%s", ok, err, buf.String())
	}
	// Damage the copy at the target: the ledger still checks, the target does not.
	os.WriteFile(filepath.Join(depot, "apogee-final-0002.zip"), []byte("damaged"), 0o644)
	buf.Reset()
	ok, err = verifyLedger(context.Background(), &buf, led, target, true)
	var jr struct {
		OK       bool             `json:"ok"`
		Problems []ledger.Problem `json:"problems"`
	}
	if err != nil || ok || json.Unmarshal(buf.Bytes(), &jr) != nil || jr.OK || len(jr.Problems) != 1 || jr.Problems[0].Line != 2 {
		t.Fatalf("verify damaged target: %v %v\n%s", ok, err, buf.String())
	}
	// Change one byte of the ledger: verify names the entry.
	raw, _ := os.ReadFile(led)
	i := bytes.Index(raw, []byte("APOGEE-0001"))
	raw[i+len("APOGEE-000")] = '9'
	os.WriteFile(led, raw, 0o644)
	buf.Reset()
	ok, err = verifyLedger(context.Background(), &buf, led, "", false)
	if err != nil || ok || !strings.Contains(buf.String(), "BROKEN line 1 (SIP apogee-final-0001.zip): content does not match its hash") {
		t.Fatalf("verify tampered ledger: %v %v\n%s", ok, err, buf.String())
	}
	// And no one appends to it any more.
	_, code = run(t, "transfer", "--target", target, "--ledger", led, a)
	if code != exitError {
		t.Fatalf("transfer with a damaged ledger: exit %d", code)
	}
}

func TestTransferToS3AndVerify(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{TLS: true})
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CA_BUNDLE", s.CAFile)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	target := "s3://depot/apogee?endpoint=" + s.Endpoint + "&path-style=true"
	tg, err := ts3.Open(context.Background(), target, ts3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("depot"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	a, _ := makeSIP(t, src, "a.zip", "MSG-A")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	out, code := run(t, "transfer", "--target", target, "--ledger", led, "--json", "--lock-mode", "GOVERNANCE", "--retain-until", "2099-01-01", a)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var res transferResult
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &res); err != nil || res.Outcome != "sent" || res.Receipt.Checksum == "" || res.Ledger != 1 {
		t.Fatalf("%v %+v\n%s", err, res, out)
	}
	if strings.Contains(out, s.SecretKey) {
		t.Fatal("secret in output")
	}
	var buf bytes.Buffer
	if ok, err := verifyLedger(context.Background(), &buf, led, target, false); err != nil || !ok {
		t.Fatalf("verify: %v %v\n%s", ok, err, buf.String())
	}
	// A SIP removed behind the ledger's back (here straight from the server's disk) is reported.
	os.Remove(filepath.Join(s.Dir, "depot", "apogee", "a.zip"))
	buf.Reset()
	if ok, err := verifyLedger(context.Background(), &buf, led, target, false); err != nil || ok || !strings.Contains(buf.String(), "BROKEN line 1 (SIP a.zip): recorded as stored but missing") {
		t.Fatalf("verify after removal: %v %v\n%s", ok, err, buf.String())
	}
}

func TestTransferBadInput(t *testing.T) {
	dir := t.TempDir()
	notZip := filepath.Join(dir, "x.zip")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"transfer", notZip}, exitError, `Required flag "target" not set`},
		{[]string{"transfer", "--target", "ftp://x", notZip}, exitError, `unknown scheme "ftp"`},
		{[]string{"transfer", "--target", "dir://" + dir + "/out", "--lock-mode", "COMPLIANCE", notZip}, exitError, "--lock-mode and --retain-until go together"},
		{[]string{"transfer", "--target", "dir://" + dir + "/out", notZip}, exitError, "not a readable zip"},
		{[]string{"transfer", "--target", "s3://b?endpoint=http://h:1&secret_key=hunter2", notZip}, exitError, `unknown parameter "secret_key"`},
	} {
		out, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret in output: %s", out)
		}
	}
}

func TestTransferDryRunSendsAndRecordsNothing(t *testing.T) {
	src, depot := t.TempDir(), filepath.Join(t.TempDir(), "depot")
	a, _ := makeSIP(t, src, "a.zip", "MSG-A")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	out, code := run(t, "transfer", "--target", "dir://"+depot, "--ledger", led, "--dry-run", a)
	if code != exitOK || !strings.Contains(out, "would-send") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if entries, _ := os.ReadDir(depot); len(entries) != 0 {
		t.Errorf("dry run wrote %d files", len(entries))
	}
	if _, err := os.Stat(led); !os.IsNotExist(err) {
		t.Errorf("dry run created the ledger: %v", err)
	}
}

func TestTransferToVITAM(t *testing.T) {
	atrDir := testsvc.SharedDir(t, "samples", "vitam", "vitam-atr")
	client := vitamtest.NewClient(t, "versement")
	src := t.TempDir()
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	saved := filepath.Join(t.TempDir(), "atr")

	// OK: the SIP's MessageIdentifier is the one VITAM's sample ATR answers.
	ok := vitamtest.Start(t, filepath.Join(atrDir, "sedaArchiveTransferReply.xml"), client.Pool)
	client.SetEnv(t, ok)
	a, aDigest := makeSIP(t, src, "a.zip", "OK_texte_14BinaryMaster_fmts")
	target := ok.TargetURL("&poll=1ms")
	out, code := run(t, "transfer", "--target", target, "--ledger", led, "--atr-dir", saved, a)
	if code != exitOK || !strings.Contains(out, "operation aeeaaaaaace2txtzabdlkaltyrxo4siaaaaq OK") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if h := ok.Posts()[0]; h.Get("X-Manifest-Digest-Value") != aDigest || h.Get("X-Manifest-Digest-Algo") != "SHA-256" {
		t.Errorf("manifest digest headers %v", h)
	}
	if _, err := os.Stat(filepath.Join(saved, "aeeaaaaaace2txtzabdlkaltyrxo4siaaaaq.xml")); err != nil {
		t.Errorf("ATR not saved: %v", err)
	}
	out, code = run(t, "transfer", "--target", target, "--ledger", led, a)
	if code != exitOK || !strings.Contains(out, "recorded") || len(ok.Posts()) != 1 {
		t.Fatalf("rerun must not ingest twice (exit %d, %d posts)\n%s", code, len(ok.Posts()), out)
	}

	// KO: exit 1, recorded as rejected.
	ko := vitamtest.Start(t, filepath.Join(atrDir, "sedaArchiveTransferReplyKO.xml"), client.Pool)
	client.SetEnv(t, ko)
	b, _ := makeSIP(t, src, "b.zip", "MSG-B")
	out, code = run(t, "transfer", "--target", ko.TargetURL("&poll=1ms"), "--ledger", led, b)
	if code != exitFindings || !strings.Contains(out, "rejected") || !strings.Contains(out, "CHECK_HEADER.CHECK_AGENT KO") {
		t.Fatalf("KO: exit %d\n%s", code, out)
	}
	var last ledger.Entry
	rep, _ := ledger.Read(led, func(e ledger.Entry) { last = e })
	if !rep.OK() || rep.Entries != 2 || last.Status != ledger.StatusRejected || last.Receipt.ReplyCode != "KO" || last.Receipt.Operation == "" {
		t.Fatalf("ledger after KO: %+v\n%+v", rep, last)
	}
}

// A VITAM ingest whose polling timed out is recorded as pending; the rerun waits for that
// operation's verdict instead of ingesting the SIP a second time.
func TestTransferToVITAMPendingThenResumed(t *testing.T) {
	atrDir := testsvc.SharedDir(t, "samples", "vitam", "vitam-atr")
	client := vitamtest.NewClient(t, "versement")
	s := vitamtest.Start(t, filepath.Join(atrDir, "sedaArchiveTransferReply.xml"), client.Pool)
	s.Running = -1
	client.SetEnv(t, s)
	a, _ := makeSIP(t, t.TempDir(), "a.zip", "OK_texte_14BinaryMaster_fmts")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	// The poll timeout is short, but long enough for the upload on a loaded machine: the error
	// must be the operation still running, not a slow POST.
	target := s.TargetURL("&poll=1ms&timeout=1s")
	out, code := run(t, "transfer", "--target", target, "--ledger", led, a)
	if code != exitError || !strings.Contains(out, "still RUNNING/STARTED") {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	s.Finish() // VITAM finishes meanwhile
	out, code = run(t, "transfer", "--target", target, "--ledger", led, a)
	if code != exitOK || !strings.Contains(out, "OK") {
		t.Fatalf("rerun: exit %d\n%s", code, out)
	}
	if n := len(s.Posts()); n != 1 {
		t.Fatalf("the SIP was ingested %d times", n)
	}
	var statuses []string
	ledger.Read(led, func(e ledger.Entry) { statuses = append(statuses, e.Status) })
	if strings.Join(statuses, ",") != "pending,accepted" {
		t.Fatalf("ledger statuses %v", statuses)
	}
}

// The auditor's command: verify --ledger, alone and with --target, and its exit codes.
func TestVerifyLedgerCommand(t *testing.T) {
	src, depot := t.TempDir(), t.TempDir()
	a, _ := makeSIP(t, src, "apogee-final-0001.zip", "APOGEE-0001")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	target := "dir://" + depot
	if out, code := run(t, "transfer", "--target", target, "--ledger", led, a); code != exitOK {
		t.Fatalf("transfer (%d):\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", led, "--target", target); code != exitOK {
		t.Fatalf("verify --ledger --target (%d):\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", led, a); code != exitOK || !strings.Contains(out, "1 entries chained") || !strings.Contains(out, a+": OK") {
		t.Fatalf("verify --ledger SIP (%d):\n%s", code, out)
	}
	// The ledger and a package in one call: the package is damaged while the ledger holds, and the
	// worse of the two decides the exit code.
	if out, code := run(t, "verify", "--ledger", led, makeBareSIP(t, src, "bare.zip", "BARE")); code != exitFindings || !strings.Contains(out, "1 entries chained") || !strings.Contains(out, "DAMAGED") {
		t.Fatalf("verify --ledger SIP (%d):\n%s", code, out)
	}
	if out, code := run(t, "verify", "--target", target); code != exitError || !strings.Contains(out, "give --ledger FILE too") {
		t.Fatalf("--target alone (%d):\n%s", code, out)
	}
	os.WriteFile(filepath.Join(depot, "apogee-final-0001.zip"), []byte("damaged"), 0o644)
	if out, code := run(t, "verify", "--ledger", led, "--target", target); code != exitFindings || !strings.Contains(out, "does not hold") {
		t.Fatalf("damaged target (%d):\n%s", code, out)
	}
	if out, code := run(t, "verify", "--ledger", filepath.Join(src, "none.jsonl")); code != exitError {
		t.Fatalf("missing ledger (%d):\n%s", code, out)
	}
}

// Without a ledger nothing hashes the SIP before the S3 target does (InspectZip leaves the SHA-256
// empty): the target computes it, reports the real digest, stores it, and a rerun sends nothing.
func TestTransferToS3WithoutLedgerHashesOnce(t *testing.T) {
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
	want, _ := transfer.FileSHA256(a)
	for i, outcome := range []string{"sent", "already-there"} {
		out, code := run(t, "transfer", "--target", target, "--json", a)
		var res transferResult
		if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &res); err != nil || code != exitOK || res.Outcome != outcome || res.Receipt.SHA256 != want {
			t.Fatalf("run %d: exit %d, %v %+v, want %s with sha256 %s\n%s", i+1, code, err, res, outcome, want, out)
		}
	}
	if obj, err := tg.Stat(context.Background(), "a.zip"); err != nil || obj.SHA256 != want {
		t.Fatalf("stat: %+v %v", obj, err)
	}
}

// What versement sends must pass versement's own audit: a SIP verify finds damaged is refused with
// exit 1, named with its first findings, and neither sent nor recorded; the good SIP beside it goes.
func TestTransferRefusesDamagedSIP(t *testing.T) {
	src, depot := t.TempDir(), t.TempDir()
	good, _ := makeSIP(t, src, "good.zip", "GOOD")
	corrupt := makeCorruptSIP(t, src, "corrupt.zip", "CORRUPT")
	bare := makeBareSIP(t, src, "bare.zip", "BARE")
	led := filepath.Join(t.TempDir(), "ledger.jsonl")
	target := "dir://" + depot
	stored := func() string {
		var n []string
		des, _ := os.ReadDir(depot)
		for _, d := range des {
			n = append(n, d.Name())
		}
		return strings.Join(n, ",")
	}
	recorded := func() string {
		var n []string
		if _, err := ledger.Read(led, func(e ledger.Entry) { n = append(n, e.SIP) }); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return strings.Join(n, ",")
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	corruptLine := "refused       corrupt.zip: damaged, not sent: DIGEST_MISMATCH Content/data.json: object BDO-1: SHA-256 is " +
		sum(`{"dossier":"CORRUPT#}`) + ", the manifest says " + sum(`{"dossier":"CORRUPT"}`) + "\n"
	bareLine := "refused       bare.zip: damaged, not sent: UNREFERENCED_FILE Content/data.json: file is in the package but no BinaryDataObject's Uri names it\n"

	// A dry run checks too: it says what would be refused.
	out, code := run(t, "transfer", "--target", target, "--ledger", led, "--dry-run", corrupt, good)
	lines := strings.SplitAfter(out, "\n")
	if code != exitFindings || len(lines) != 4 || lines[0] != corruptLine || !strings.HasPrefix(lines[1], "would-send    good.zip sha256 ") ||
		lines[2] != "ERR: transfer: 1 of 2 SIPs refused, damaged or not fully checked: corrupt.zip (nothing sent or recorded for them; versement verify lists every finding)\n" {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if s, r := stored(), recorded(); s != "" || r != "" {
		t.Fatalf("dry run: stored %q, recorded %q", s, r)
	}

	out, code = run(t, "transfer", "--target", target, "--ledger", led, good, corrupt, bare)
	lines = strings.SplitAfter(out, "\n")
	if code != exitFindings || len(lines) != 5 || !strings.HasPrefix(lines[0], "sent          good.zip -> ") || lines[1] != corruptLine || lines[2] != bareLine ||
		lines[3] != "ERR: transfer: 2 of 3 SIPs refused, damaged or not fully checked: corrupt.zip, bare.zip (nothing sent or recorded for them; versement verify lists every finding)\n" {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if s, r := stored(), recorded(); s != "good.zip" || r != "good.zip" {
		t.Fatalf("stored %q, recorded %q", s, r)
	}

	// --json carries the findings for scripts.
	out, code = run(t, "transfer", "--target", target, "--ledger", led, "--json", bare)
	var res transferResult
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &res); err != nil || code != exitFindings || res.Outcome != "refused" ||
		len(res.Findings) != 1 || res.Findings[0].Code != seda.CodeUnreferenced || res.Receipt != nil || res.Ledger != 0 {
		t.Fatalf("json: exit %d %v %+v\n%s", code, err, res, out)
	}

	// --no-verify sends it: the user's choice, not the default.
	out, code = run(t, "transfer", "--target", target, "--ledger", led, "--no-verify", corrupt)
	if code != exitOK || !strings.HasPrefix(out, "sent          corrupt.zip -> ") {
		t.Fatalf("--no-verify: exit %d\n%s", code, out)
	}
	if s, r := stored(), recorded(); s != "corrupt.zip,good.zip" || r != "good.zip,corrupt.zip" {
		t.Fatalf("after --no-verify: stored %q, recorded %q", s, r)
	}
}

// A SIP verify could not read whole (highly compressed entries past --max-expanded) is not proven
// intact: it is refused like a damaged one, and says why.
func TestTransferRefusesSIPNotFullyChecked(t *testing.T) {
	p := filepath.Join(t.TempDir(), "zeros.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: "ZEROS", Date: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC),
		ArchivalAgency: "A", TransferringAgency: "T"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := sw.AddObject(seda.Object{Name: "comments.txt", MimeType: "text/plain"}, bytes.NewReader(make([]byte, 8<<20)))
	if err == nil {
		_, err = sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "zeros"}, Groups: []seda.GroupID{o.Group()}})
	}
	if err == nil {
		_, err = sw.Close()
	}
	if err != nil || f.Close() != nil {
		t.Fatal(err)
	}
	depot := t.TempDir()
	out, code := run(t, "transfer", "--target", "dir://"+depot, "--max-expanded", "1MiB", p)
	if code != exitFindings || !strings.HasPrefix(out, "refused       zeros.zip: not fully checked by verify, not sent: NOT_EXPANDED Content/comments.txt: ") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if des, _ := os.ReadDir(depot); len(des) != 0 {
		t.Fatalf("%d files sent", len(des))
	}
	// With the default budget, as verify's, it is read whole and sent.
	if out, code := run(t, "transfer", "--target", "dir://"+depot, p); code != exitOK || !strings.HasPrefix(out, "sent ") {
		t.Fatalf("default budget: exit %d\n%s", code, out)
	}
	if _, code := run(t, "transfer", "--target", "dir://"+depot, "--max-expanded", "lots", p); code != exitError {
		t.Fatalf("--max-expanded lots: exit %d", code)
	}
}
