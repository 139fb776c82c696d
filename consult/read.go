package consult

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/versement/versement/fiche"
	"github.com/versement/versement/index"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
)

// dossier is one dossier read out of its SIP: its unit, the unit it sits under (the series, which
// holds the class's data dictionary) and the reader to open their objects.
type dossier struct {
	entry  index.Entry
	unit   sip.Unit
	series *sip.Unit
	r      *sip.Reader
	blob   transfer.Blob
}

func (d *dossier) Close() error { return d.blob.Close() }

// open finds the dossier's unit in its SIP at the target the index names.
func (s *Service) open(ctx context.Context, e index.Entry) (*dossier, error) {
	t, err := s.target(ctx, e.Target)
	if err != nil {
		return nil, fmt.Errorf("consult: target %s: %w", e.Target, err)
	}
	op, ok := transfer.As[transfer.Opener](t)
	if !ok {
		return nil, fmt.Errorf("consult: the dossier is in SIP %s at %s, which cannot be read back from here", e.SIP, e.Target)
	}
	blob, err := op.Open(ctx, e.SIP)
	if err != nil {
		return nil, fmt.Errorf("consult: SIP %s at %s: %w", e.SIP, e.Target, err)
	}
	r, err := sip.Open(ctx, blob, blob.Size())
	if err != nil {
		blob.Close()
		return nil, fmt.Errorf("consult: SIP %s at %s: %w", e.SIP, e.Target, err)
	}
	d := &dossier{entry: e, r: r, blob: blob}
	// Units come in document order, a unit once it is closed: the dossier's series closes after
	// it, so the pass goes on to the series (its dictionary), and no further.
	errDone := errors.New("done")
	err = r.Units(ctx, func(u sip.Unit) error {
		if d.unit.ID == "" && u.DescriptionLevel != "Series" {
			for _, id := range u.OriginatingSystemIDs {
				if id == e.Key {
					d.unit = u
					if u.ParentID == "" {
						return errDone
					}
					return nil
				}
			}
		}
		if d.unit.ID != "" && u.ID == d.unit.ParentID {
			d.series = &u
			return errDone
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		blob.Close()
		return nil, fmt.Errorf("consult: SIP %s at %s: %w", e.SIP, e.Target, err)
	}
	if d.unit.ID == "" {
		blob.Close()
		return nil, fmt.Errorf("consult: SIP %s at %s has no unit for the dossier %s/%s: the index is out of date (versement index rebuild)", e.SIP, e.Target, e.Profile, e.Key)
	}
	return d, nil
}

// readObject reads one object whole, its size and digest checked; keep says whether to keep the
// bytes (the others are checked and dropped).
func (d *dossier) readObject(ctx context.Context, o sip.Object, keep bool) ([]byte, error) {
	rc, err := d.r.Object(ctx, o)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if !keep {
		_, err = io.Copy(io.Discard, rc)
		return nil, err
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(rc, fiche.MaxDocument+1)); err != nil {
		return nil, err
	}
	if b.Len() > fiche.MaxDocument {
		return nil, fmt.Errorf("object %s is larger than %d MiB", o.URI, fiche.MaxDocument>>20)
	}
	return b.Bytes(), nil
}

// isDocument tells the dossier's own document (its first version, JSON) from its LOBs.
func isDocument(o sip.Object) bool {
	return o.MIME == "application/json" && (o.Version == "" || strings.HasPrefix(o.Version, "BinaryMaster_1"))
}

// read reads the dossier and builds its sheet. Every object is read and checked, the document,
// the dictionary and the images kept for the sheet; a mismatch fails the whole reading: nothing
// is shown of a dossier whose bytes are not those archived.
func (s *Service) read(ctx context.Context, e index.Entry) (*fiche.Fiche, error) {
	if isVITAM(e.Target) {
		return s.readVITAM(ctx, e)
	}
	d, err := s.open(ctx, e)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var doc, dict []byte
	var objects []fiche.Object
	for _, o := range d.unit.Objects {
		keep := isDocument(o) || strings.HasPrefix(o.MIME, "image/")
		data, err := d.readObject(ctx, o, keep)
		if err != nil {
			return nil, fmt.Errorf("consult: SIP %s: %w", e.SIP, err)
		}
		if isDocument(o) && doc == nil {
			doc = data
			data = nil
		}
		objects = append(objects, fiche.Object{Name: objectName(o), MIME: o.MIME, Size: o.Size, Algorithm: o.Algorithm, Digest: o.Digest, Verified: true, Data: data})
	}
	if doc == nil {
		return nil, fmt.Errorf("consult: SIP %s: the dossier %s/%s has no JSON document", e.SIP, e.Profile, e.Key)
	}
	if d.series != nil {
		for _, o := range d.series.Objects {
			if strings.HasPrefix(objectName(o), "dictionary-") {
				if dict, err = d.readObject(ctx, o, true); err != nil {
					return nil, fmt.Errorf("consult: SIP %s: %w", e.SIP, err)
				}
				break
			}
		}
	}
	var dictR io.Reader
	if dict != nil {
		dictR = bytes.NewReader(dict)
	}
	return fiche.Build(bytes.NewReader(doc), dictR, contextOf(e, d.unit), d.unit.Title, objects)
}

// objectName is an object's file name inside Content/.
func objectName(o sip.Object) string {
	return strings.TrimPrefix(o.URI, "Content/")
}

func contextOf(e index.Entry, u sip.Unit) fiche.Context {
	c := fiche.Context{Profile: e.Profile, Class: e.Class, Tier: e.Tier, Key: e.Key,
		DUAEnd: e.DUAEnd, AccessEnd: e.AccessEnd, SIP: e.SIP, SIPDigest: e.SIPDigest, Target: e.Target, Operation: e.Operation}
	if a := u.Management.Appraisal; a != nil {
		c.Rule, c.RuleStart, c.FinalAction = a.Rule, a.StartDate, a.FinalAction
	}
	if a := u.Management.Access; a != nil {
		c.AccessRule, c.AccessStart = a.Rule, a.StartDate
	}
	for _, id := range u.OriginatingAgencyArchiveUnitIDs {
		if id.Name != "" {
			c.Identifiers = append(c.Identifiers, id.Name+" "+id.Value)
		}
	}
	return c
}
