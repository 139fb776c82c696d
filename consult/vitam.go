package consult

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/versement/versement/fiche"
	"github.com/versement/versement/index"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/vitam"
)

// Archive is VITAM's access API as a consultation uses it (vitam.Access).
type Archive interface {
	FindUnits(ctx context.Context, q vitam.UnitQuery) ([]vitam.FoundUnit, error)
	Object(ctx context.Context, unitID, usage string, version int) (io.ReadCloser, vitam.ObjectInfo, error)
	Close() error
}

// isVITAM tells a target URL the index recorded for VITAM.
func isVITAM(url string) bool { return strings.HasPrefix(url, "vitam+") }

func (s *Service) archive(ctx context.Context, url string) (Archive, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.archives[url]; ok {
		return a, nil
	}
	open := s.OpenArchive
	if open == nil {
		open = func(ctx context.Context, url string) (Archive, error) {
			return vitam.OpenAccess(ctx, url, vitam.Options{})
		}
	}
	a, err := open(ctx, url)
	if err != nil {
		return nil, err
	}
	if s.archives == nil {
		s.archives = map[string]Archive{}
	}
	s.archives[url] = a
	return a, nil
}

// readVITAM reads a dossier archived in VITAM: its unit found by its key and first identifier
// (access-external, under the URL's access contract), each object fetched by its version and
// checked against the size and digest its SIP's manifest declared, which the index kept: VITAM's
// answer is not taken on trust either. The class's dictionary stays in the series unit, which
// the API cannot reach from a dossier's: the sheet labels columns by their names.
func (s *Service) readVITAM(ctx context.Context, e index.Entry) (*fiche.Fiche, error) {
	u, objects, err := s.vitamObjects(ctx, e, func(i int, o index.Object) (read, keep bool) {
		return true, i == 0 || strings.HasPrefix(o.MIME, "image/")
	})
	if err != nil {
		return nil, err
	}
	doc := objects[0].Data
	objects[0].Data = nil
	c := fiche.Context{Profile: e.Profile, Class: e.Class, Tier: e.Tier, Key: e.Key, Rule: e.Rule, FinalAction: e.FinalAction, RuleStart: e.RuleStart,
		DUAEnd: e.DUAEnd, AccessRule: e.AccessRule, AccessStart: e.AccessStart, AccessEnd: e.AccessEnd,
		SIP: e.SIP, SIPDigest: e.SIPDigest, Target: e.Target, Operation: u.Operation}
	for _, id := range e.Identifiers {
		c.Identifiers = append(c.Identifiers, id.Name+" "+id.Value)
	}
	return fiche.Build(bytes.NewReader(doc), nil, c, e.Title, objects)
}

// vitamObjects finds the dossier's unit in VITAM and reads the objects pick asks for (keep: with
// their bytes), each checked against the manifest's size and digest the index kept. The writer
// numbers a dossier's objects BinaryMaster_1 (its document), _2… (its LOBs), in the order the
// manifest, and so the index, lists them.
func (s *Service) vitamObjects(ctx context.Context, e index.Entry, pick func(i int, o index.Object) (read, keep bool)) (*vitam.FoundUnit, []fiche.Object, error) {
	a, err := s.archive(ctx, e.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("consult: VITAM %s: %w", e.Target, err)
	}
	q := vitam.UnitQuery{OriginatingSystemID: e.Key, Limit: 10}
	if len(e.Identifiers) > 0 {
		q.Identifiers = []string{e.Identifiers[0].Name + ":" + e.Identifiers[0].Value}
	}
	units, err := a.FindUnits(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("consult: VITAM %s: the unit of dossier %s/%s: %w", e.Target, e.Profile, e.Key, err)
	}
	var u *vitam.FoundUnit
	for i := range units {
		if e.SystemID != "" && units[i].SystemID == e.SystemID || e.SystemID == "" && (e.Operation == "" || units[i].Operation == e.Operation) {
			u = &units[i]
			break
		}
	}
	if u == nil {
		return nil, nil, fmt.Errorf("consult: VITAM %s: %w: no unit of the ingest %s for dossier %s/%s", e.Target, transfer.ErrNotExist, e.Operation, e.Profile, e.Key)
	}
	if len(e.Objects) == 0 {
		return nil, nil, fmt.Errorf("consult: VITAM %s: the dossier %s/%s has no object in the index", e.Target, e.Profile, e.Key)
	}
	var objects []fiche.Object
	for i, o := range e.Objects {
		read, keep := pick(i, o)
		if !read {
			continue
		}
		data, err := fetchChecked(ctx, a, u.SystemID, i+1, o, keep)
		if err != nil {
			return nil, nil, fmt.Errorf("consult: VITAM %s, dossier %s/%s: %w", e.Target, e.Profile, e.Key, err)
		}
		objects = append(objects, fiche.Object{Name: strings.TrimPrefix(o.Name, "Content/"), MIME: o.MIME, Size: o.Size, Algorithm: o.Algorithm, Digest: o.Digest, Verified: true, Data: data})
	}
	return u, objects, nil
}

// fetchChecked reads BinaryMaster_version of a unit whole, checked against o (sip.Checked: the
// bytes VITAM gives must be those the SIP's manifest declared); keep says whether to return them.
func fetchChecked(ctx context.Context, a Archive, unit string, version int, o index.Object, keep bool) ([]byte, error) {
	rc, _, err := a.Object(ctx, unit, "BinaryMaster", version)
	if err != nil {
		return nil, err
	}
	cr, err := sip.Checked(ctx, rc, sip.Object{URI: o.Name, Algorithm: o.Algorithm, Digest: o.Digest, Size: o.Size}, "object "+o.Name+" from VITAM")
	if err != nil {
		rc.Close()
		return nil, err
	}
	defer cr.Close()
	if !keep {
		_, err = io.Copy(io.Discard, cr)
		return nil, err
	}
	return io.ReadAll(cr)
}
