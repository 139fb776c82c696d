// Package targettest is the conformance suite every transfer.Target runs from its own tests, as
// restic's backend test suite: what Put, Stat and List must do, how failures are classified, what
// a receipt holds, and that the decorators report the target's capabilities as the target does.
//
//	func TestConformance(t *testing.T) {
//		targettest.Run(t, targettest.Suite{New: func(t *testing.T) transfer.Target { … }})
//	}
//
// What a target cannot do is skipped for a reason its capabilities give, never its name: a
// target that is not transfer.Indexed (VITAM) cannot recognise a SIP by name, so the idempotence
// and conflict tests are skipped and its Stat and List must answer ErrNotSupported; one that is
// not a transfer.Resumer skips resumption.
package targettest

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dryrun"
	"github.com/versement/versement/transfer/retry"
)

// Suite describes the target under test.
type Suite struct {
	// New returns a new, empty target (a fresh folder, bucket or archive): it is called once per
	// test, and the target is closed after it.
	New func(t *testing.T) transfer.Target
	// SIP writes a SIP named name; two variants of one name have different bytes. Nil: a small
	// zip with a manifest, which any target that does not read SIPs (dir, s3) takes. An archive
	// that reads them (VITAM) gives one it accepts.
	SIP func(t *testing.T, name string, variant int) transfer.SIP
}

// Run runs the suite.
func Run(t *testing.T, s Suite) {
	if s.New == nil {
		t.Fatal("targettest: Suite.New is nil")
	}
	if s.SIP == nil {
		s.SIP = ZipSIP
	}
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Suite)
	}{
		{"PutReceipt", testPutReceipt},
		{"PutComputesSHA256", testPutComputesSHA256},
		{"PutSameBytesAgain", testPutSameBytesAgain},
		{"PutOtherBytesSameName", testPutOtherBytesSameName},
		{"PutMissingFile", testPutMissingFile},
		{"StatMissing", testStatMissing},
		{"List", testList},
		{"Resume", testResume},
		{"DryRunSendsNothing", testDryRun},
		{"CapabilitiesThroughDecorators", testCapabilities},
		{"Delete", testDelete},
		{"Open", testOpen},
		{"OpenMissing", testOpenMissing},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, s) })
	}
}

func open(t *testing.T, s Suite) transfer.Target {
	t.Helper()
	tg := s.New(t)
	t.Cleanup(func() { tg.Close() })
	return tg
}

func indexed(tg transfer.Target) bool { _, ok := transfer.As[transfer.Indexed](tg); return ok }

// skipUnlessIndexed skips a test of what only a target keeping SIPs by name can do.
func skipUnlessIndexed(t *testing.T, tg transfer.Target, what string) {
	t.Helper()
	if !indexed(tg) {
		t.Skipf("%s is not a transfer.Indexed: it does not keep SIPs under their names, so it cannot %s (exactly-once there rests on the ledger)", tg, what)
	}
}

// checkReceipt checks what every receipt of a Put that stored sip holds.
func checkReceipt(t *testing.T, tg transfer.Target, sip transfer.SIP, r transfer.Receipt) {
	t.Helper()
	switch {
	case r.Target != tg.String():
		t.Errorf("receipt target %q, want the target's String %q", r.Target, tg.String())
	case r.Name != sip.Name:
		t.Errorf("receipt name %q, want %q", r.Name, sip.Name)
	case r.Size != sip.Size:
		t.Errorf("receipt size %d, want %d", r.Size, sip.Size)
	case r.SHA256 != sip.SHA256:
		t.Errorf("receipt sha256 %q, want %q", r.SHA256, sip.SHA256)
	case r.Location == "":
		t.Error("receipt without a location")
	case r.Time.IsZero() || time.Since(r.Time) > time.Hour || r.Time.Location() != time.UTC:
		t.Errorf("receipt time %v: want now, in UTC", r.Time)
	case r.DryRun:
		t.Error("a real Put's receipt says dry run")
	}
	if _, ok := transfer.As[transfer.Resumer](tg); ok && r.Operation == "" {
		t.Error("a target that can resume gave no operation to resume")
	}
	if r.ReplyCode != "" && len(r.ATR) == 0 {
		t.Errorf("receipt with ReplyCode %s but no ATR", r.ReplyCode)
	}
}

// A Put stores the SIP and says so in a receipt with every field a ledger entry needs; a target
// that keeps SIPs by name then describes it with the same size and SHA-256.
func testPutReceipt(t *testing.T, s Suite) {
	tg := open(t, s)
	sip := s.SIP(t, "conformance-0001.zip", 0)
	r, err := tg.Put(context.Background(), sip)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkReceipt(t, tg, sip, r)
	if r.AlreadyThere {
		t.Error("a first Put says the SIP was already there")
	}
	if !indexed(tg) {
		return
	}
	obj, err := tg.Stat(context.Background(), sip.Name)
	if err != nil || obj.Name != sip.Name || obj.Size != sip.Size || obj.SHA256 != sip.SHA256 {
		t.Errorf("Stat after Put: %+v %v; want %s, %d bytes, sha256 %s", obj, err, sip.Name, sip.Size, sip.SHA256)
	}
}

// A SIP whose SHA-256 the caller did not give (a one-off transfer) is hashed by the target, and
// the receipt carries the digest of the file's bytes.
func testPutComputesSHA256(t *testing.T, s Suite) {
	tg := open(t, s)
	sip := s.SIP(t, "conformance-0002.zip", 0)
	want := sip.SHA256
	sip.SHA256, sip.Size = "", 0
	r, err := tg.Put(context.Background(), sip)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if r.SHA256 != want {
		t.Errorf("receipt sha256 %q, want the file's %q", r.SHA256, want)
	}
	if fi, _ := os.Stat(sip.Path); r.Size != fi.Size() {
		t.Errorf("receipt size %d, want the file's %d", r.Size, fi.Size())
	}
}

// Put is idempotent by name: the same bytes again are recognised and nothing is sent.
func testPutSameBytesAgain(t *testing.T, s Suite) {
	tg := open(t, s)
	skipUnlessIndexed(t, tg, "recognise a SIP it already holds")
	sip := s.SIP(t, "conformance-0003.zip", 0)
	if _, err := tg.Put(context.Background(), sip); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	r, err := tg.Put(context.Background(), sip)
	if err != nil || !r.AlreadyThere {
		t.Fatalf("second Put of the same bytes: %+v %v; want AlreadyThere", r, err)
	}
	checkReceipt(t, tg, sip, r)
}

// Other bytes under a stored name are refused (ErrConflict, permanent: a retry cannot cure it)
// and the stored SIP is left as it was.
func testPutOtherBytesSameName(t *testing.T, s Suite) {
	tg := open(t, s)
	skipUnlessIndexed(t, tg, "refuse another SIP under a stored SIP's name")
	first := s.SIP(t, "conformance-0004.zip", 0)
	if _, err := tg.Put(context.Background(), first); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	other := s.SIP(t, "conformance-0004.zip", 1)
	if other.SHA256 == first.SHA256 {
		t.Fatal("targettest: the two variants of a SIP have the same bytes")
	}
	for _, sha := range []string{other.SHA256, ""} { // given, and computed by the target
		o := other
		o.SHA256 = sha
		_, err := tg.Put(context.Background(), o)
		if !errors.Is(err, transfer.ErrConflict) || transfer.IsTransient(err) {
			t.Errorf("Put of other bytes (sha256 given: %v): %v; want a permanent error wrapping ErrConflict", sha != "", err)
		}
	}
	if obj, err := tg.Stat(context.Background(), first.Name); err != nil || obj.SHA256 != first.SHA256 {
		t.Errorf("after the refused Put: %+v %v; want the first SIP, sha256 %s", obj, err, first.SHA256)
	}
}

// A SIP whose file is missing fails at once: no retry brings the file back.
func testPutMissingFile(t *testing.T, s Suite) {
	tg := open(t, s)
	sip := s.SIP(t, "conformance-0005.zip", 0)
	sip.Path = filepath.Join(t.TempDir(), "gone.zip")
	sip.Size = 0
	if _, err := tg.Put(context.Background(), sip); err == nil || transfer.IsTransient(err) {
		t.Errorf("Put of a missing file: %v; want a permanent error", err)
	}
}

// Stat of a name the target does not hold: ErrNotExist, not transient; a target that cannot be
// asked by name answers ErrNotSupported.
func testStatMissing(t *testing.T, s Suite) {
	tg := open(t, s)
	_, err := tg.Stat(context.Background(), "conformance-missing.zip")
	want := transfer.ErrNotExist
	if !indexed(tg) {
		want = transfer.ErrNotSupported
	}
	if !errors.Is(err, want) || transfer.IsTransient(err) {
		t.Errorf("Stat of a missing SIP: %v; want a permanent error wrapping %q", err, want)
	}
}

// List gives every SIP stored, each once, in name order, with its size; ErrNotSupported where
// the target cannot be asked.
func testList(t *testing.T, s Suite) {
	tg := open(t, s)
	if !indexed(tg) {
		if err := tg.List(context.Background(), func(transfer.Object) error { return nil }); !errors.Is(err, transfer.ErrNotSupported) {
			t.Errorf("List on a target that is not Indexed: %v; want ErrNotSupported", err)
		}
		return
	}
	var none []string
	if err := tg.List(context.Background(), func(o transfer.Object) error { none = append(none, o.Name); return nil }); err != nil || len(none) != 0 {
		t.Fatalf("List of a new target: %v %v", none, err)
	}
	sizes := map[string]int64{}
	for _, name := range []string{"conformance-b.zip", "conformance-a.zip", "sub/conformance-c.zip"} {
		sip := s.SIP(t, name, 0)
		if _, err := tg.Put(context.Background(), sip); err != nil {
			t.Fatalf("Put %s: %v", name, err)
		}
		sizes[name] = sip.Size
	}
	var got []string
	err := tg.List(context.Background(), func(o transfer.Object) error {
		got = append(got, o.Name)
		if o.Size != sizes[o.Name] {
			t.Errorf("List: %s is %d bytes, want %d", o.Name, o.Size, sizes[o.Name])
		}
		return nil
	})
	want := []string{"conformance-a.zip", "conformance-b.zip", "sub/conformance-c.zip"}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List: %v %v; want %v", got, err, want)
	}
	stop := errors.New("enough")
	n := 0
	if err := tg.List(context.Background(), func(transfer.Object) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("List whose callback fails: %d calls, %v; want 1 call and the callback's error", n, err)
	}
}

// A target that can resume waits again for the verdict on an operation a Put started, without
// sending the SIP again, and gives the same verdict.
func testResume(t *testing.T, s Suite) {
	tg := open(t, s)
	res, ok := transfer.As[transfer.Resumer](tg)
	if !ok {
		t.Skipf("%s is not a transfer.Resumer: its Put ends with the verdict, there is nothing to resume", tg)
	}
	sip := s.SIP(t, "conformance-0006.zip", 0)
	r, err := tg.Put(context.Background(), sip)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	r2, err := res.Resume(context.Background(), sip, r.Operation)
	if err != nil {
		t.Fatalf("Resume %s: %v", r.Operation, err)
	}
	checkReceipt(t, tg, sip, r2)
	if r2.Operation != r.Operation || r2.ReplyCode != r.ReplyCode {
		t.Errorf("Resume: operation %s, reply %s; the Put's were %s, %s", r2.Operation, r2.ReplyCode, r.Operation, r.ReplyCode)
	}
}

// Through the dry-run decorator a Put sends nothing and says what it would do: store a new SIP,
// skip one already there, refuse a conflicting one.
func testDryRun(t *testing.T, s Suite) {
	tg := open(t, s)
	dry := dryrun.Wrap(tg)
	sip := s.SIP(t, "conformance-0007.zip", 0)
	r, err := dry.Put(context.Background(), sip)
	if err != nil || !r.DryRun || r.AlreadyThere || r.SHA256 != sip.SHA256 || r.Name != sip.Name {
		t.Fatalf("dry-run Put: %+v %v", r, err)
	}
	if !indexed(tg) {
		return
	}
	if _, err := tg.Stat(context.Background(), sip.Name); !errors.Is(err, transfer.ErrNotExist) {
		t.Fatalf("after a dry run, Stat says %v; want ErrNotExist (nothing stored)", err)
	}
	if _, err := tg.Put(context.Background(), sip); err != nil {
		t.Fatal(err)
	}
	if r, err := dry.Put(context.Background(), sip); err != nil || !r.DryRun || !r.AlreadyThere {
		t.Errorf("dry-run Put of a stored SIP: %+v %v; want AlreadyThere", r, err)
	}
	if _, err := dry.Put(context.Background(), s.SIP(t, sip.Name, 1)); !errors.Is(err, transfer.ErrConflict) {
		t.Errorf("dry-run Put of other bytes: %v; want ErrConflict", err)
	}
}

// Wrapped in retries, a dry run, or both (as targets.Open wraps it), the target answers every
// capability lookup as it does bare, and a Resumer is still one to a type assertion.
func testCapabilities(t *testing.T, s Suite) {
	tg := open(t, s)
	bare := capabilities(tg)
	for name, wrapped := range map[string]transfer.Target{
		"retry":        retry.Wrap(tg, retry.Policy{}),
		"dryrun":       dryrun.Wrap(tg),
		"retry+dryrun": retry.Wrap(dryrun.Wrap(tg), retry.Policy{}),
	} {
		if got := capabilities(wrapped); got != bare {
			t.Errorf("through %s: %s; bare: %s", name, got, bare)
		}
		_, direct := wrapped.(transfer.Resumer)
		if _, ok := transfer.As[transfer.Resumer](tg); direct != ok {
			t.Errorf("through %s: the decorator is a Resumer: %v; the target: %v", name, direct, ok)
		}
		if wrapped.String() != tg.String() {
			t.Errorf("through %s: String %s, want %s", name, wrapped, tg)
		}
	}
}

func capabilities(tg transfer.Target) string {
	_, r := transfer.As[transfer.Resumer](tg)
	_, p := transfer.As[transfer.Prober](tg)
	_, i := transfer.As[transfer.Indexed](tg)
	_, o := transfer.As[transfer.Opener](tg)
	return fmt.Sprintf("Resumer %v, Prober %v, Indexed %v, Opener %v", r, p, i, o)
}

// ZipSIP writes a small zip holding a manifest and one object, with bytes that depend on name
// and variant, and returns it as a SIP with its size, SHA-256, manifest digest and origin.
func ZipSIP(t *testing.T, name string, variant int) transfer.SIP {
	t.Helper()
	msgID := fmt.Sprintf("CONFORMANCE-%s-%d", filepath.Base(name), variant)
	manifest := `<?xml version="1.0" encoding="UTF-8"?><ArchiveTransfer xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><MessageIdentifier>` + msgID + `</MessageIdentifier></ArchiveTransfer>`
	sip := storedZip(t, name, [][2]string{{"manifest.xml", manifest}, {"Content/D1.json", fmt.Sprintf(`{"variant":%d}`, variant)}})
	md := sha256.Sum256([]byte(manifest))
	sip.MessageID = msgID
	sip.ManifestDigest = transfer.Digest{Algo: "SHA-256", Value: hex.EncodeToString(md[:])}
	return sip
}

// storedZip writes the entries (name, bytes), STORED, into a zip named after name and returns it
// as a SIP with its size, SHA-256 and origin.
func storedZip(t *testing.T, name string, entries [][2]string) transfer.SIP {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(name))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Store, Modified: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := transfer.FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	return transfer.SIP{Name: name, Path: p, Size: fi.Size(), SHA256: sum, Origin: transfer.Origin{Profile: "conformance", Class: "test", Tier: "final"}}
}

// testDelete: a deleted SIP is gone from Stat and List, a second Delete says ErrNotExist (what a
// rerun of an elimination reads as done), a name reaching outside the target is refused, the
// name can be used again, and a dry run deletes nothing.
func testDelete(t *testing.T, s Suite) {
	tg := open(t, s)
	del, ok := transfer.As[transfer.Deleter](tg)
	if !ok {
		t.Skip("the target is not a transfer.Deleter")
	}
	ctx := context.Background()
	sip := s.SIP(t, "del-00001.zip", 0)
	if _, err := tg.Put(ctx, sip); err != nil {
		t.Fatal(err)
	}
	if err := dryrun.Wrap(tg).(transfer.Deleter).Delete(ctx, sip.Name); err != nil {
		t.Fatalf("dry-run Delete of a stored SIP: %v", err)
	}
	if _, err := tg.Stat(ctx, sip.Name); err != nil {
		t.Fatalf("a dry-run Delete deleted the SIP: Stat = %v", err)
	}
	if err := del.Delete(ctx, sip.Name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := tg.Stat(ctx, sip.Name); !errors.Is(err, transfer.ErrNotExist) {
		t.Errorf("Stat after Delete = %v, want ErrNotExist", err)
	}
	err := tg.List(ctx, func(o transfer.Object) error {
		if o.Name == sip.Name {
			return fmt.Errorf("the list still shows %s", o.Name)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if err := del.Delete(ctx, sip.Name); !errors.Is(err, transfer.ErrNotExist) {
		t.Errorf("second Delete = %v, want ErrNotExist", err)
	}
	if err := del.Delete(ctx, "../outside.zip"); err == nil {
		t.Error("Delete of ../outside.zip succeeded")
	}
	if _, err := tg.Put(ctx, s.SIP(t, "del-00001.zip", 1)); err != nil {
		t.Errorf("Put after Delete: %v", err)
	}
}
