package vitam_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

func atr(t *testing.T, name string) string {
	return filepath.Join(testsvc.SharedDir(t, "samples", "vitam", "vitam-atr"), name)
}

func target(t *testing.T, s *vitamtest.Server, client vitamtest.Client, query string, opts vitam.Options) *vitam.Target {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	cfg := &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	if opts.PollInterval == 0 {
		opts.PollInterval = 5 * time.Millisecond
	}
	tg, err := vitam.New("vitam+https://"+s.Host()+"?tenant=2&admin="+s.AdminURL()+query, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// sip writes a real SIP with the writer: the faithful server reads it as VITAM does.
func sip(t *testing.T, msgID string) transfer.SIP {
	return sipWith(t, msgID, "IC-000001", nil)
}

func sipWith(t *testing.T, msgID, contract string, photo []byte) transfer.SIP {
	t.Helper()
	if msgID == "" {
		msgID = "OK_texte_14BinaryMaster_fmts" // what VITAM's sample ATR answers
	}
	p := filepath.Join(t.TempDir(), "sip.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := seda.NewWriter(f, seda.Header{MessageIdentifier: msgID, Date: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ArchivalAgreement: contract, ArchivalAgency: "AD-TEST", TransferringAgency: "UNIV-TEST"}, seda.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := sw.AddObject(seda.Object{Name: "D1.json", MimeType: "application/json"}, strings.NewReader(`{"cod_etu":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if photo != nil {
		if _, err := sw.AddObject(seda.Object{Group: o.Group(), Version: "BinaryMaster_2", Name: "D1.jpg", MimeType: "image/jpeg"}, bytes.NewReader(photo)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sw.AddUnit(seda.Unit{Content: seda.Content{DescriptionLevel: "File", Title: "D1"}, Groups: []seda.GroupID{o.Group()}}); err != nil {
		t.Fatal(err)
	}
	sum, err := sw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return transfer.SIP{Name: "sip.zip", Path: p, MessageID: msgID, ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sum.ManifestSHA512}}
}

func TestIngestOK(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), client.Pool)
	tg := target(t, s, client, "&application-id=nightly-42", vitam.Options{})
	r, err := tg.Put(context.Background(), sip(t, "OK_texte_14BinaryMaster_fmts"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ReplyCode != "OK" || r.Operation != "aeeaaaaaace2txtzabdlkaltyrxo4siaaaaq" || len(r.ATR) == 0 {
		t.Fatalf("receipt %+v", r)
	}
	h := s.Posts()[0]
	for k, want := range map[string]string{
		"X-Tenant-Id": "2", "X-Action": "RESUME", "X-Context-Id": "DEFAULT_WORKFLOW", "X-Application-Id": "nightly-42",
		"X-Manifest-Digest-Algo": "SHA-512", "Content-Type": "application/octet-stream",
	} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if got := s.BodySHA256()[0]; got != r.SHA256 {
		t.Errorf("VITAM received sha256 %s, SIP is %s", got, r.SHA256)
	}
	if s.Heads() != 4 {
		t.Errorf("%d status polls, want 4 (202 PAUSE/UNKNOWN, 202 RUNNING twice, 200)", s.Heads())
	}
}

func TestATRForAnotherMessageIsAnError(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	_, err := tg.Put(context.Background(), sip(t, "SOME-OTHER-SIP"))
	if err == nil || !strings.Contains(err.Error(), `the ATR answers message "OK_texte_14BinaryMaster_fmts", the SIP is "SOME-OTHER-SIP"`) {
		t.Fatal(err)
	}
}

func TestBlankTestForDryRun(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), client.Pool)
	tg := target(t, s, client, "", vitam.Options{BlankTest: true})
	if _, err := tg.Put(context.Background(), sip(t, "")); err != nil {
		t.Fatal(err)
	}
	if got := s.Posts()[0].Get("X-Context-Id"); got != "BLANK_TEST" {
		t.Errorf("X-Context-Id %q, want BLANK_TEST", got)
	}
}

func TestIngestKO(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReplyKO.xml"), client.Pool)
	tg := target(t, s, client, "", vitam.Options{})
	r, err := tg.Put(context.Background(), sip(t, "APOGEE-1"))
	if !errors.Is(err, transfer.ErrRejected) {
		t.Fatalf("want a rejection, got %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Error("a KO must not be retried")
	}
	if r.ReplyCode != "KO" || r.Operation != "aeeaaaaaachk7bs6abo3walwa3jx6vyaaaaq" || len(r.ATR) == 0 {
		t.Fatalf("receipt %+v", r)
	}
	for _, want := range []string{"ReplyCode KO", "CHECK_HEADER.CHECK_AGENT KO", "services agents inconnus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPollingTimeout(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), client.Pool)
	s.Running = -1
	tg := target(t, s, client, "&poll=2ms&timeout=50ms", vitam.Options{})
	start := time.Now()
	r, err := tg.Put(context.Background(), sip(t, ""))
	if err == nil || !strings.Contains(err.Error(), "still RUNNING/STARTED after 50ms of polling") {
		t.Fatalf("want a polling timeout, got %v", err)
	}
	if r.Operation == "" || !strings.Contains(err.Error(), r.Operation) {
		t.Errorf("the error must name the operation to look up later: %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Error("a polling timeout must not resend the SIP")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("polling was not bounded")
	}
	if s.Heads() < 5 {
		t.Errorf("only %d polls", s.Heads())
	}
}

func TestRefusedCertificate(t *testing.T) {
	trusted := vitamtest.NewClient(t, "registered client")
	intruder := vitamtest.NewClient(t, "unknown client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), trusted.Pool)
	s.Ingest.Config.ErrorLog = log.New(io.Discard, "", 0)
	tg := target(t, s, intruder, "", vitam.Options{})
	_, err := tg.Put(context.Background(), sip(t, ""))
	if err == nil || !strings.Contains(err.Error(), "TLS handshake refused") {
		t.Fatalf("want a refused handshake, got %v", err)
	}
	var perm *transfer.PermanentError
	if !errors.As(err, &perm) {
		t.Error("a refused certificate must not be retried")
	}
	if len(s.Posts()) != 0 {
		t.Error("the server handled a request from an unknown certificate")
	}
}

// The files named by the environment are loaded; missing ones give a message naming the variables.
func TestOpenFromEnvironment(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, atr(t, "sedaArchiveTransferReply.xml"), client.Pool)
	t.Setenv(vitam.EnvCert, "")
	t.Setenv(vitam.EnvKey, "")
	_, err := vitam.Open(context.Background(), s.TargetURL(""), vitam.Options{})
	if err == nil || !strings.Contains(err.Error(), "set VERSEMENT_VITAM_CERT and VERSEMENT_VITAM_KEY") {
		t.Fatalf("without env: %v", err)
	}
	client.SetEnv(t, s)
	tg, err := vitam.Open(context.Background(), s.TargetURL("&poll=1ms"), vitam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := tg.Put(context.Background(), sip(t, "")); err != nil || r.ReplyCode != "OK" {
		t.Fatalf("reply %q: %v", r.ReplyCode, err)
	}
}

func TestURLErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"vitam+https://h:1":                                      `tenant="": want a tenant number`,
		"vitam+https://h:1?tenant=0&x=1":                         `unknown parameter "x"`,
		"vitam+https://h:8443?tenant=0&poll=soon":                `poll="soon": want a duration`,
		"vitam+https://u:pw@h:1?tenant=0":                        "no credentials in the URL",
		"vitam+https://h:1?tenant=0":                             "add admin=https://HOST:PORT of access-external: VITAM answers operation status there (/admin-external, port 8444 by default), not on ingest-external",
		"vitam+https://h:8443?tenant=0&application-id=nuit%20du": `application-id="nuit du": VITAM refuses header values with other characters than A-Z a-z 0-9 . _ : - (412 Precondition Failed), at most 128`,
		"vitam+https://h:8443?tenant=0&access-contract=<b>":      `access-contract="<b>": VITAM refuses header values`,
		"vitam+https://h:8443?tenant=0&server-name=a/b":          `server-name="a/b": want the DNS name VITAM's certificates carry`,
	} {
		_, err := vitam.New(raw, vitam.Options{}, &tls.Config{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("secret in error: %v", err)
		}
	}
}

func TestParseATRSamples(t *testing.T) {
	ok, _ := os.Open(atr(t, "sedaArchiveTransferReply.xml"))
	defer ok.Close()
	r, err := vitam.ParseATR(ok)
	if err != nil || r.ReplyCode != "OK" || r.MessageRequestIdentifier != "OK_texte_14BinaryMaster_fmts" || !r.Accepted() || len(r.Events) != 0 {
		t.Fatalf("OK sample: %+v %v", r, err)
	}
	ko, _ := os.Open(atr(t, "sedaArchiveTransferReplyKO.xml"))
	defer ko.Close()
	r, err = vitam.ParseATR(ko)
	if err != nil || r.ReplyCode != "KO" || r.Accepted() || len(r.Events) != 3 || r.Events[2].TypeCode != "CHECK_HEADER.CHECK_AGENT" {
		t.Fatalf("KO sample: %+v %v", r, err)
	}
	for doc, want := range map[string]string{
		"":                        "empty document",
		"<a/>":                    "root element is a",
		"<ArchiveTransferReply>":  "not well-formed",
		"<ArchiveTransferReply/>": "no ReplyCode",
	} {
		if _, err := vitam.ParseATR(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}

// The vitam backend reads its own URL; the URL's parameters win over Options, which fill in
// what it leaves unsaid.
func TestParseURL(t *testing.T) {
	c, err := vitam.ParseURL("vitam+https://ingest.example.org:8443?tenant=3&poll=90s&access-contract=AC-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest != "https://ingest.example.org:8443" || c.Admin != "https://ingest.example.org:8444" || c.Tenant != 3 ||
		c.PollInterval != 90*time.Second || c.PollTimeout != 0 || c.AccessContract != "AC-1" || c.ApplicationID != "" {
		t.Fatalf("%+v", c)
	}
	if c.String() != "vitam+https://ingest.example.org:8443?access-contract=AC-1&poll=90s&tenant=3" {
		t.Errorf("String: %s", c)
	}
	hand := vitam.Config{Ingest: "https://i:1", Admin: "https://a:2", Tenant: 0, PollInterval: time.Minute}
	if hand.String() != "vitam+https://i:1?admin=https://a:2&poll=1m0s&tenant=0" {
		t.Errorf("a Config built by hand: %s", hand)
	}
	if _, err := vitam.NewTarget(c, vitam.Options{ApplicationID: "nuit du"}, &tls.Config{}); err == nil || !strings.Contains(err.Error(), `application id "nuit du": VITAM refuses header values`) {
		t.Errorf("an application id from Options is checked too: %v", err)
	}
	if err := vitam.Check("vitam+https://h:8443?tenant=x"); err == nil || !strings.Contains(err.Error(), `tenant="x"`) {
		t.Errorf("Check: %v", err)
	}
}
