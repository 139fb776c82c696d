package index

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
)

// Where is what the index records of a SIP beyond its manifest: which profile, class and tier it
// holds, where it is, and what the archive answered.
type Where struct {
	Profile, Class, Tier   string
	SIP, SIPDigest, Target string
	Operation              string            // VITAM ingest operation
	SystemIDs              map[string]string // manifest unit id → VITAM SystemId, from the ATR
	Archived               time.Time
	// Ends gives the end of a rule's period from its start (YYYY-MM-DD; "" when unknown): the
	// manifest names rules, the profile's schedule knows their durations.
	Ends func(rule, start string) string
}

// FromSIP calls fn with the entry of every dossier of a SIP: the units with an
// OriginatingSystemId (the dossier's key) that are not the series they sit under.
func FromSIP(ctx context.Context, r *sip.Reader, w Where, fn func(Entry) error) error {
	return r.Units(ctx, func(u sip.Unit) error {
		if u.DescriptionLevel == "Series" || len(u.OriginatingSystemIDs) == 0 {
			return nil
		}
		return fn(entryOf(u, w))
	})
}

func entryOf(u sip.Unit, w Where) Entry {
	e := Entry{Profile: w.Profile, Class: w.Class, Tier: w.Tier, Key: u.OriginatingSystemIDs[0], Title: u.Title,
		StartDate: u.StartDate, EndDate: u.EndDate, SIP: w.SIP, SIPDigest: w.SIPDigest, Target: w.Target,
		Operation: w.Operation, SystemID: w.SystemIDs[u.ID], Archived: w.Archived}
	for _, id := range u.OriginatingAgencyArchiveUnitIDs {
		if id.Name != "" {
			e.Identifiers = append(e.Identifiers, Identifier{Name: id.Name, Value: id.Value})
		}
	}
	if len(u.Agents) > 0 {
		a := u.Agents[0]
		e.Person = Person{FirstName: a.FirstName, BirthName: a.BirthName, UsageName: a.GivenName, BirthDate: a.BirthDate}
	}
	ends := w.Ends
	if ends == nil {
		ends = func(string, string) string { return "" }
	}
	if a := u.Management.Appraisal; a != nil {
		e.Rule, e.FinalAction, e.RuleStart = a.Rule, a.FinalAction, a.StartDate
		e.DUAEnd = ends(a.Rule, a.StartDate)
	}
	if a := u.Management.Access; a != nil {
		e.AccessRule, e.AccessStart = a.Rule, a.StartDate
		e.AccessEnd = ends(a.Rule, a.StartDate)
	}
	for _, o := range u.Objects {
		e.Objects = append(e.Objects, Object{Name: o.URI, Size: o.Size, Algorithm: o.Algorithm, Digest: o.Digest, MIME: o.MIME})
	}
	return e
}

// Recorder indexes every SIP a run sends (it is the run's pipeline.Indexer): it reads the
// spooled SIP's manifest, still on local disk, and puts its dossiers in the index, a batch at a
// time. Putting the same SIP twice (a run resumed after a crash) replaces its entries with the same.
type Recorder struct {
	Store Store
	Ends  func(rule, start string) string
	Now   func() time.Time
}

// putBatch is how many entries one transaction puts.
const putBatch = 250

// IndexSIP indexes the dossiers of a SIP now at a target.
func (rc *Recorder) IndexSIP(ctx context.Context, s transfer.SIP, r transfer.Receipt) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	sr, err := sip.Open(ctx, f, st.Size())
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return PutAll(ctx, rc.Store, func(fn func(Entry) error) error { return FromSIP(ctx, sr, rc.where(s, r), fn) })
}

// IndexUnits indexes the dossiers of a SIP now at a target from its units as the run's builder
// wrote them (sip.Builder.Units): the entries IndexSIP would make, without reading the manifest
// again (pipeline.UnitIndexer).
func (rc *Recorder) IndexUnits(ctx context.Context, s transfer.SIP, r transfer.Receipt, units []sip.Unit) error {
	w := rc.where(s, r)
	return PutAll(ctx, rc.Store, func(fn func(Entry) error) error {
		for _, u := range units {
			if u.DescriptionLevel == "Series" || len(u.OriginatingSystemIDs) == 0 {
				continue
			}
			if err := fn(entryOf(u, w)); err != nil {
				return err
			}
		}
		return nil
	})
}

// where is what the index records of a SIP sent and its receipt.
func (rc *Recorder) where(s transfer.SIP, r transfer.Receipt) Where {
	when := r.Time
	if when.IsZero() && rc.Now != nil {
		when = rc.Now()
	}
	return Where{Profile: s.Origin.Profile, Class: s.Origin.Class, Tier: s.Origin.Tier, SIP: s.Name, SIPDigest: s.SHA256,
		Target: dir.AbsURL(r.Target), Operation: r.Operation, SystemIDs: ATRSystemIDs(r.ATR), Archived: when, Ends: rc.Ends}
}

// PutAll puts what each calls fn with, in batches of putBatch entries: memory does not grow with
// the SIP.
func PutAll(ctx context.Context, st Store, each func(fn func(Entry) error) error) error {
	batch := make([]Entry, 0, putBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.Put(ctx, batch...)
		batch = batch[:0]
		return err
	}
	if err := each(func(e Entry) error {
		batch = append(batch, e)
		if len(batch) == putBatch {
			return flush()
		}
		return nil
	}); err != nil {
		return err
	}
	return flush()
}

// ATRSystemIDs reads, from a VITAM ArchiveTransferReply, the SystemId VITAM gave each unit of the
// manifest (by the manifest's unit id). An ATR that cannot be read gives what was read before.
func ATRSystemIDs(atr []byte) map[string]string {
	if len(atr) == 0 {
		return nil
	}
	ids := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(atr))
	var unit string
	var inContent, inSystemID bool
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return ids
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "ArchiveUnit":
				unit = ""
				for _, a := range t.Attr {
					if a.Name.Local == "id" {
						unit = a.Value
					}
				}
			case "Content":
				inContent = true
			case "SystemId":
				inSystemID = inContent && unit != ""
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "Content":
				inContent = false
			case "SystemId":
				inSystemID = false
			}
		case xml.CharData:
			if inSystemID {
				ids[unit] += string(t)
			}
		}
	}
}
