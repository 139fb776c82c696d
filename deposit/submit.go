package deposit

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// submitted is a KindSIP transaction's package, as verified at submission.
type submitted struct {
	Name           string `json:"name"` // at the target: its MessageIdentifier, file-safe, + ".zip"
	Size           int64  `json:"size"`
	SHA256         string `json:"sha256"`
	ManifestSHA512 string `json:"manifest_sha512"`
	MessageID      string `json:"message_id"`
	Units          int    `json:"units"`
}

func (s *Service) sipPath(id string) string { return filepath.Join(s.txDir(id), "sip.zip") }

// SubmitSIP takes a finished SEDA SIP: streamed to disk (at most Limits.MaxSIPBytes), verified
// (seda.Verify, and the XSD when Config.XSDDir is set) and its agencies and contract checked
// against the establishment's before anything is sent; then queued, and Process sends it as it
// is. The same SIP submitted again returns the first transaction.
func (s *Service) SubmitSIP(ctx context.Context, r io.Reader, by string) (Transaction, error) {
	inc := filepath.Join(s.cfg.Dir, "incoming")
	if err := os.MkdirAll(inc, 0o750); err != nil {
		return Transaction{}, fmt.Errorf("deposit %s: %w", s.cfg.Establishment, err)
	}
	tmp, err := os.CreateTemp(inc, "sip-*.zip")
	if err != nil {
		return Transaction{}, fmt.Errorf("deposit %s: %w", s.cfg.Establishment, err)
	}
	path := tmp.Name()
	defer os.Remove(path) // moved into its transaction when accepted
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, io.LimitReader(r, s.lim.MaxSIPBytes+1)})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Transaction{}, fmt.Errorf("deposit %s: receiving a SIP: %w", s.cfg.Establishment, err)
	}
	if n > s.lim.MaxSIPBytes {
		return Transaction{}, errorf(TooLarge, "sip", "a SIP larger than %d bytes", s.lim.MaxSIPBytes)
	}
	v, err := seda.Verify(ctx, path, seda.VerifyOptions{XSDDir: s.cfg.XSDDir, TempDir: inc})
	if err != nil {
		return Transaction{}, fmt.Errorf("deposit %s: verifying a SIP: %w", s.cfg.Establishment, err)
	}
	if v.Unsupported != "" || !v.OK() || !v.Complete() || v.Container != "zip" {
		e := errorf(Unprocessable, "sip", "the SIP is refused: nothing was sent")
		if v.Unsupported != "" {
			e.Msg = "not a SEDA 2.1–2.3 transfer (" + v.Unsupported + "): nothing was sent"
		}
		fs := v.Blocking()
		if len(fs) == 0 {
			fs = v.Findings
		}
		for _, f := range fs {
			e.Findings = append(e.Findings, fmt.Sprintf("%s %s %s: %s", f.Severity, f.Code, f.Where, f.Message))
		}
		if !v.Complete() && len(e.Findings) == 0 {
			e.Findings = []string{"the package could not be fully checked"}
		}
		return Transaction{}, e
	}
	ids, err := manifestIDs(path, v.Manifest)
	if err != nil {
		return Transaction{}, errorf(Unprocessable, "sip", "reading its manifest: %v", err)
	}
	if err := s.checkSIPAgencies(ids); err != nil {
		return Transaction{}, err
	}
	if v.MessageIdentifier == "" {
		return Transaction{}, errorf(Unprocessable, "sip", "the manifest has no MessageIdentifier, which names the SIP at the archive")
	}
	sub := &submitted{Name: sip.FileSafe(v.MessageIdentifier) + ".zip", Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		ManifestSHA512: v.ManifestSHA512, MessageID: v.MessageIdentifier, Units: v.Units}
	hdr := Header{ArchivalAgreement: ids.contract, OriginatingAgency: first(ids.orig), SubmissionAgency: first(ids.sub)}
	t, created, err := s.create(ctx, KindSIP, hdr, by, "sip:"+sub.SHA256, func(r *record) error {
		if err := os.Rename(path, s.sipPath(r.ID)); err != nil {
			return fmt.Errorf("deposit %s: %w", s.cfg.Establishment, err)
		}
		r.SIPFile, r.State, r.Units = sub, StateQueued, sub.Units
		return nil
	})
	if err != nil {
		return Transaction{}, err
	}
	if created { // not the first submission of the same SIP, which is queued already
		if err := s.dispatch(ctx, t.ID); err != nil {
			return t, err
		}
	}
	return t, nil
}

func first(l []string) string {
	if len(l) > 0 {
		return l[0]
	}
	return ""
}

// checkSIPAgencies refuses a SIP whose contract or agencies are not the establishment's (those it
// configures; an unconfigured one is not checked).
func (s *Service) checkSIPAgencies(ids manifestIdents) error {
	if own := s.cfg.ArchivalAgreement; own != "" && ids.contract != own {
		return errorf(Unprocessable, "header.archival_agreement", "the SIP's ArchivalAgreement %q is not establishment %s's (%q)", ids.contract, s.cfg.Establishment, own)
	}
	for _, f := range []struct {
		field, elem, own string
		got              []string
	}{{"header.originating_agency", "OriginatingAgencyIdentifier", s.cfg.OriginatingAgency, ids.orig},
		{"header.submission_agency", "SubmissionAgencyIdentifier", s.cfg.SubmissionAgency, ids.sub}} {
		if f.own == "" {
			continue
		}
		if len(f.got) == 0 {
			return errorf(Unprocessable, f.field, "the SIP names no %s: establishment %s's is %q", f.elem, s.cfg.Establishment, f.own)
		}
		for _, g := range f.got {
			if g != f.own {
				return errorf(Unprocessable, f.field, "the SIP's %s %q is not establishment %s's (%q)", f.elem, g, s.cfg.Establishment, f.own)
			}
		}
	}
	return nil
}

type manifestIdents struct {
	contract  string
	orig, sub []string // every distinct value, in the order met
}

// manifestIDs reads the contract and the agencies' identifiers out of the manifest, streaming:
// seda.Verify bounded the manifest's size already.
func manifestIDs(path, manifest string) (manifestIdents, error) {
	var out manifestIdents
	zr, err := zip.OpenReader(path)
	if err != nil {
		return out, err
	}
	defer zr.Close()
	var mf *zip.File
	for _, f := range zr.File {
		if f.Name == manifest {
			mf = f
		}
	}
	if mf == nil {
		return out, errors.New("no manifest")
	}
	rc, err := mf.Open()
	if err != nil {
		return out, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, sip.MaxManifestBytes))
	var in string
	var text strings.Builder
	add := func(l []string, v string) []string {
		for _, x := range l {
			if x == v {
				return l
			}
		}
		return append(l, v)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "ArchivalAgreement", "OriginatingAgencyIdentifier", "SubmissionAgencyIdentifier":
				in = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if in != "" && text.Len() < 1024 {
				text.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == in {
				v := strings.TrimSpace(text.String())
				switch in {
				case "ArchivalAgreement":
					if out.contract == "" {
						out.contract = v
					}
				case "OriginatingAgencyIdentifier":
					out.orig = add(out.orig, v)
				case "SubmissionAgencyIdentifier":
					out.sub = add(out.sub, v)
				}
				in = ""
			}
		}
	}
}

// sipJob is the job whose target and ledger a submitted SIP goes to.
func (s *Service) sipJob() pipeline.JobSpec {
	if s.cfg.SIPJob != nil {
		return s.cfg.SIPJob()
	}
	return s.cfg.Job(nil)
}

// processSIP sends a submitted SIP as it is, through the establishment's ledger (ledger.Send:
// exactly once by name and digest, a rerun after a kill sends nothing twice).
func (s *Service) processSIP(ctx context.Context, rec *record) error {
	sub := rec.SIPFile
	job := s.sipJob()
	url := job.Target
	if url == "" {
		url = job.TargetIntermediate
	}
	if url == "" {
		url = job.TargetFinal
	}
	if url == "" {
		return errors.New("deposit: no target for submitted SIPs")
	}
	lpath := job.Ledger
	if lpath == "" {
		lpath = pipeline.DefaultLedger(job.State)
	}
	unlock, err := lockFile(ctx, filepath.Join(s.cfg.Dir, "process.lock"), 0)
	if err != nil {
		return err
	}
	defer unlock()
	opts := job.Transfer
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	t, err := targets.Open(ctx, url, opts)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := os.MkdirAll(filepath.Dir(lpath), 0o750); err != nil {
		return err
	}
	led, err := ledger.Open(lpath)
	if err != nil {
		return err
	}
	defer led.Close()
	ts := transfer.SIP{Name: sub.Name, Path: s.sipPath(rec.ID), Size: sub.Size, SHA256: sub.SHA256,
		ManifestDigest: transfer.Digest{Algo: "SHA-512", Value: sub.ManifestSHA512}, MessageID: sub.MessageID}
	e, _, err := led.Send(ctx, t, ts, ledger.Batch{Count: sub.Units})
	if err != nil {
		return fmt.Errorf("deposit %s: SIP %s: %w", s.cfg.Establishment, sub.Name, err)
	}
	ref := SIPRef{Name: sub.Name, SHA256: sub.SHA256, Bytes: sub.Size, Dossiers: sub.Units, Target: t.String(), Status: e.Status}
	if len(e.Receipt.ATR) > 0 {
		dir := filepath.Join(s.txDir(rec.ID), "atr")
		if err := os.MkdirAll(dir, 0o750); err == nil && os.WriteFile(filepath.Join(dir, sipFileName(sub.Name)+".xml"), e.Receipt.ATR, 0o600) == nil {
			ref.ATR = true
		}
	}
	rec.SIPs = mergeSIPs(rec.SIPs, []SIPRef{ref})
	if !e.Done() {
		return fmt.Errorf("deposit %s: SIP %s: the target answered %s (ledger entry %d)", s.cfg.Establishment, sub.Name, e.Status, e.Seq)
	}
	return nil
}

// ATR is the archive's transfer reply to the transaction's (first) SIP, when the archive gave one.
func (s *Service) ATR(ctx context.Context, id string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := s.load(id)
	if err != nil {
		return nil, err
	}
	for _, r := range rec.SIPs {
		if r.ATR {
			f, err := os.Open(filepath.Join(s.txDir(id), "atr", sipFileName(r.Name)+".xml"))
			if err != nil {
				return nil, fmt.Errorf("deposit %s: transaction %s: ATR: %w", s.cfg.Establishment, id, err)
			}
			return f, nil
		}
	}
	return nil, errorf(NotFound, "atr", "transaction %s has no transfer reply (yet): the archive answers with one for VITAM targets", id)
}
