package eliminate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/versement/versement/bordereau"
)

// MaxProposal is the largest bordereau JSON read: a line of annex is about 200 bytes, so this is
// a proposal of a million dossiers.
const MaxProposal = 256 << 20

// Proposal is a bordereau d'élimination as its JSON says (bordereau.WriteJSON): the header and
// the lots in memory, the annex read again from the file when needed.
type Proposal struct {
	bordereau.Elimination
	Path   string // the file it was read from
	SHA256 string // of the file's bytes: what the ledger records, and what the visa answers
}

// Lot returns the lot with that line id.
func (p *Proposal) Lot(id string) (bordereau.Lot, bool) {
	for _, l := range p.Lots {
		if l.ID == id {
			return l, true
		}
	}
	return bordereau.Lot{}, false
}

// ReadProposal reads a bordereau d'élimination's JSON and checks that it is whole: a document of
// kind elimination with an identifier, whose annex lists, for each lot, as many dossiers as the
// lot says and no dossier of a lot it does not have. An edited file fails here, not halfway
// through an execution.
func ReadProposal(path string) (*Proposal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	p := &Proposal{Path: path}
	counts := map[string]int64{}
	err = scanProposal(io.TeeReader(io.LimitReader(f, MaxProposal+1), h), &p.Elimination, func(a bordereau.AnnexLine) error {
		counts[a.Lot]++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("proposal %s: %w", path, err)
	}
	// What the decoder did not read (trailing spaces) counts in the digest too.
	if _, err := io.Copy(h, io.LimitReader(f, MaxProposal)); err != nil {
		return nil, fmt.Errorf("proposal %s: %w", path, err)
	}
	p.SHA256 = hex.EncodeToString(h.Sum(nil))
	if p.ID == "" {
		return nil, fmt.Errorf("proposal %s: no identifier: is it a bordereau-elimination.json?", path)
	}
	for _, l := range p.Lots {
		if counts[l.ID] != l.Dossiers {
			return nil, fmt.Errorf("proposal %s: lot %s says %d dossiers, its annex lists %d: the file is not the one versement wrote", path, l.ID, l.Dossiers, counts[l.ID])
		}
		delete(counts, l.ID)
	}
	for id := range counts {
		return nil, fmt.Errorf("proposal %s: its annex lists dossiers of lot %q, which it has not: the file is not the one versement wrote", path, id)
	}
	return p, nil
}

// Annex calls fn for every dossier of the proposal's annex, read again from its file.
func (p *Proposal) Annex(fn func(bordereau.AnnexLine) error) error {
	f, err := os.Open(p.Path)
	if err != nil {
		return fmt.Errorf("proposal: %w", err)
	}
	defer f.Close()
	var e bordereau.Elimination
	if err := scanProposal(io.LimitReader(f, MaxProposal+1), &e, fn); err != nil {
		return fmt.Errorf("proposal %s: %w", p.Path, err)
	}
	return nil
}

// scanProposal decodes the document's fields into e, and its annex one line at a time into fn:
// memory does not grow with the annex.
func scanProposal(r io.Reader, e *bordereau.Elimination, fn func(bordereau.AnnexLine) error) error {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object: is it a bordereau-elimination.json?")
	}
	var head bytes.Buffer
	head.WriteByte('{')
	kind := ""
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if name != "annex" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("field %s: %w", name, err)
			}
			if name == "document" {
				json.Unmarshal(raw, &kind)
			}
			if head.Len() > 1 {
				head.WriteByte(',')
			}
			k, _ := json.Marshal(name)
			head.Write(k)
			head.WriteByte(':')
			head.Write(raw)
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return errors.New("annex: not an array")
		}
		for n := 1; dec.More(); n++ {
			var a bordereau.AnnexLine
			if err := dec.Decode(&a); err != nil {
				return fmt.Errorf("annex line %d: %w", n, err)
			}
			if a.Key == "" || a.Lot == "" {
				return fmt.Errorf("annex line %d: no lot or no key", n)
			}
			if err := fn(a); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("annex: %w", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	head.WriteByte('}')
	if kind != "elimination" {
		return fmt.Errorf("document %q, want \"elimination\": is it a bordereau-elimination.json?", kind)
	}
	if err := json.Unmarshal(head.Bytes(), e); err != nil {
		return err
	}
	return nil
}
