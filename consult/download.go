package consult

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/versement/versement/index"
	"github.com/versement/versement/sip"
)

// Download is one object of a dossier, opened for reading: its bytes are checked against the
// manifest as they are read, and the read that reaches the end fails (sip.ErrDigest) if they
// differ, so a caller streaming it to a person cuts the transfer rather than hand over altered
// bytes as whole.
type Download struct {
	Name string // file name
	MIME string
	Size int64
	io.ReadCloser
}

// Object opens one object of a dossier (name: its file name in the SIP, as the sheet lists it).
// The download is logged before the first byte is returned.
func (s *Service) Object(ctx context.Context, req Request, profile, key, name string) (*Download, error) {
	a := access{op: OpDownload, profile: profile, key: key, object: name}
	e, err := s.entry(ctx, req, a)
	if err != nil {
		return nil, err
	}
	a.class, a.tier = e.Class, e.Tier
	if isVITAM(e.Target) {
		return s.objectVITAM(ctx, req, a, e, name)
	}
	d, err := s.open(ctx, e)
	if err != nil {
		return nil, s.failed(ctx, req, a, err)
	}
	for _, o := range d.unit.Objects {
		if objectName(o) != name {
			continue
		}
		rc, err := d.r.Object(ctx, o)
		if err != nil {
			d.Close()
			return nil, s.failed(ctx, req, a, err)
		}
		a.result = ResultOK
		if err := s.record(ctx, req, a); err != nil {
			rc.Close()
			d.Close()
			return nil, err
		}
		return &Download{Name: name, MIME: o.MIME, Size: o.Size, ReadCloser: closeBoth{rc, d}}, nil
	}
	d.Close()
	a.result = ResultNotFound
	if err := s.record(ctx, req, a); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: the dossier %s/%s has no object %s", ErrNotFound, profile, key, name)
}

// objectVITAM reads one object of a dossier archived in VITAM, checked whole before it is handed
// over (VITAM's stream cannot be checked as it goes: its digest is only known at the end).
func (s *Service) objectVITAM(ctx context.Context, req Request, a access, e index.Entry, name string) (*Download, error) {
	found := false
	_, objs, err := s.vitamObjects(ctx, e, func(_ int, o index.Object) (bool, bool) {
		ok := strings.TrimPrefix(o.Name, "Content/") == name
		found = found || ok
		return ok, ok
	})
	if err == nil && !found {
		a.result = ResultNotFound
		if err := s.record(ctx, req, a); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: the dossier %s/%s has no object %s", ErrNotFound, e.Profile, e.Key, name)
	}
	if err != nil {
		return nil, s.failed(ctx, req, a, err)
	}
	a.result = ResultOK
	if err := s.record(ctx, req, a); err != nil {
		return nil, err
	}
	o := objs[0]
	return &Download{Name: o.Name, MIME: o.MIME, Size: o.Size, ReadCloser: io.NopCloser(bytes.NewReader(o.Data))}, nil
}

type closeBoth struct {
	io.ReadCloser
	d *dossier
}

func (c closeBoth) Close() error { return errors.Join(c.ReadCloser.Close(), c.d.Close()) }

// failed logs a consultation that could not be done and returns its error.
func (s *Service) failed(ctx context.Context, req Request, a access, err error) error {
	a.result, a.reason = ResultFailed, reasonOf(err)
	if lerr := s.record(ctx, req, a); lerr != nil {
		return errors.Join(err, lerr)
	}
	return err
}

// Package writes the dossier as a small zip a person can take away (DIP-like): its objects as
// archived and a manifest.json saying where they come from, with each one's digest — every
// object checked against the SIP's manifest before the zip is finished. A failure leaves w with
// an unfinished zip: write to a temporary file and keep it only if Package succeeds.
func (s *Service) Package(ctx context.Context, req Request, profile, key string, w io.Writer) error {
	a := access{op: OpDownload, profile: profile, key: key}
	e, err := s.entry(ctx, req, a)
	if err != nil {
		return err
	}
	a.class, a.tier = e.Class, e.Tier
	var objects []sip.Object
	var title, unit string
	var fetched map[string][]byte // VITAM: the objects read and checked, by URI
	if isVITAM(e.Target) {
		u, objs, err := s.vitamObjects(ctx, e, func(int, index.Object) (bool, bool) { return true, true })
		if err != nil {
			return s.failed(ctx, req, a, err)
		}
		title, unit, fetched = e.Title, u.SystemID, map[string][]byte{}
		for _, o := range objs {
			uri := "Content/" + o.Name
			objects = append(objects, sip.Object{URI: uri, MIME: o.MIME, Size: o.Size, Algorithm: o.Algorithm, Digest: o.Digest})
			fetched[uri] = o.Data
		}
	}
	var d *dossier
	if fetched == nil {
		var err error
		if d, err = s.open(ctx, e); err != nil {
			return s.failed(ctx, req, a, err)
		}
		defer d.Close()
		title, unit, objects = d.unit.Title, d.unit.ID, d.unit.Objects
		if d.series != nil {
			objects = append(objects, d.series.Objects...) // the data dictionary: what the columns mean
		}
	}
	a.result = ResultOK
	if err := s.record(ctx, req, a); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	type item struct {
		Name      string `json:"name"`
		MIME      string `json:"mime"`
		Size      int64  `json:"size"`
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
	}
	man := struct {
		Format    string    `json:"format"`
		Profile   string    `json:"profile"`
		Class     string    `json:"class"`
		Tier      string    `json:"tier"`
		Key       string    `json:"key"`
		Title     string    `json:"title"`
		SIP       string    `json:"sip"`
		SIPSHA256 string    `json:"sip_sha256"`
		Target    string    `json:"target"`
		Unit      string    `json:"unit"`
		Exported  time.Time `json:"exported"`
		By        string    `json:"exported_by"`
		Objects   []item    `json:"objects"`
	}{Format: "versement-dossier-export/1", Profile: e.Profile, Class: e.Class, Tier: e.Tier, Key: e.Key, Title: title,
		SIP: e.SIP, SIPSHA256: e.SIPDigest, Target: e.Target, Unit: unit, Exported: s.now().UTC().Truncate(time.Second), By: req.User.ID}
	for _, o := range objects {
		if data, ok := fetched[o.URI]; ok {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: o.URI, Method: zip.Deflate})
			if err == nil {
				_, err = fw.Write(data)
			}
			if err != nil {
				return err
			}
		} else if err := copyObject(ctx, zw, d, o); err != nil {
			return fmt.Errorf("consult: SIP %s: %w", e.SIP, err)
		}
		man.Objects = append(man.Objects, item{Name: objectName(o), MIME: o.MIME, Size: o.Size, Algorithm: o.Algorithm, Digest: o.Digest})
	}
	mw, err := zw.Create("manifest.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(mw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(man); err != nil {
		return err
	}
	return zw.Close()
}

func copyObject(ctx context.Context, zw *zip.Writer, d *dossier, o sip.Object) error {
	rc, err := d.r.Object(ctx, o)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Content/" + objectName(o), Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, rc)
	return err
}
