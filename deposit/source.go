package deposit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/versement/versement/extract"
)

// unitsSource reads a closed transaction's units as a run reads a database: extract.Source, so
// that pipeline.Execute decides, builds, verifies, sends and records them as it does a run's
// dossiers. The documents stay on disk: the source holds their index, sorted by key, and reads one
// document at a time.
type unitsSource struct {
	s       *Service
	id      string
	entries []unitEntry // in ascending key order, as the SQL sources give the dossiers
	tables  []extract.TableInfo
}

func (s *Service) openSource(ctx context.Context, rec *record) (*unitsSource, error) {
	idx, _, err := s.readIndex(rec.ID)
	if err != nil {
		return nil, err
	}
	// Each key is decoded once, not at every comparison of the sort.
	ints := rec.KeyKind == "int"
	type keyed struct {
		n int64
		s string
		e unitEntry
	}
	ks := make([]keyed, len(idx))
	for i, e := range idx {
		var k string
		_ = json.Unmarshal(e.Key, &k)
		ks[i].e = e
		if ints {
			ks[i].n, _ = strconv.ParseInt(k, 10, 64)
		} else {
			ks[i].s = strings.TrimPrefix(k, "s:")
		}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if ints {
			return cmpInt(a.n, b.n)
		}
		return strings.Compare(a.s, b.s) // bytewise, as SQL's binary collation orders text keys
	})
	for i := range ks {
		idx[i] = ks[i].e
	}
	src := &unitsSource{s: s, id: rec.ID, entries: idx}
	// Describe: each table's columns and kinds as the first document that has the table says.
	// The index names each document's tables, so only documents that may bring a table not yet
	// described are read, each once: an optional table a document marks absent is looked for in
	// the next ones.
	described := map[string]bool{}
	for rest := idx; ; {
		var docs []unitEntry
		want := map[string]bool{}
		for _, e := range rest {
			for _, t := range e.Tables {
				if u := strings.ToUpper(t); !described[u] && !want[u] {
					want[u] = true
					docs = append(docs, e)
					break
				}
			}
		}
		if len(docs) == 0 {
			break
		}
		for d, err := range (&unitsSource{s: s, id: rec.ID, entries: docs}).Dossiers(ctx, extract.Spec{}) {
			if err != nil {
				return nil, err
			}
			for _, t := range d.Tables {
				if u := strings.ToUpper(t.Table); !t.Absent && !described[u] {
					described[u] = true
					cols := slices.Clone(t.Columns)
					for i := range cols {
						cols[i].DBType = string(cols[i].Kind) // a deposit has no database type
						cols[i].Nullable = true
					}
					src.tables = append(src.tables, extract.TableInfo{Name: t.Table, Columns: cols})
				}
			}
		}
		rest = dropEntries(rest, docs)
	}
	return src, nil
}

// dropEntries is idx without the entries of docs (by offset).
func dropEntries(idx, docs []unitEntry) []unitEntry {
	gone := map[int64]bool{}
	for _, d := range docs {
		gone[d.Off] = true
	}
	var out []unitEntry
	for _, e := range idx {
		if !gone[e.Off] {
			out = append(out, e)
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (u *unitsSource) Dialect() string { return "deposit" }
func (u *unitsSource) Close() error    { return nil }

// Describe gives the class's tables as the documents declare them, in the class's order.
func (u *unitsSource) Describe(ctx context.Context, class extract.Spec) ([]extract.TableInfo, error) {
	if class.Root.Name == "" {
		return u.tables, nil
	}
	names := []string{class.Root.Name}
	for _, c := range class.Children {
		names = append(names, c.Name)
	}
	var out []extract.TableInfo
	for _, n := range names {
		for _, t := range u.tables {
			if strings.EqualFold(t.Name, n) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// Dossiers reads the documents in key order; each LOB opens the uploaded object it names.
func (u *unitsSource) Dossiers(ctx context.Context, class extract.Spec) iter.Seq2[*extract.Dossier, error] {
	return func(yield func(*extract.Dossier, error) bool) {
		f, err := os.Open(u.s.unitsData(u.id))
		if err != nil {
			yield(nil, fmt.Errorf("deposit: transaction %s: %w", u.id, err))
			return
		}
		defer f.Close()
		var buf []byte
		for _, e := range u.entries {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			buf = slices.Grow(buf[:0], int(e.Len))[:e.Len]
			if _, err := f.ReadAt(buf, e.Off); err != nil {
				yield(nil, fmt.Errorf("deposit: transaction %s: reading a unit: %w", u.id, err))
				return
			}
			d, err := extract.ReadJSON(bytes.NewReader(buf), nil)
			if err != nil {
				yield(nil, fmt.Errorf("deposit: transaction %s: %w", u.id, err))
				return
			}
			if class.Only != nil && keyString(d.Key) != keyString(onlyKey(class.Only, d.Key)) {
				continue
			}
			refs := e.Objects
			for l := range d.LOBs() {
				if len(refs) == 0 {
					yield(nil, fmt.Errorf("deposit: transaction %s: a unit's LOBs and its index differ", u.id))
					return
				}
				name := refs[0].Name
				refs = refs[1:]
				sc, err := readSidecar(u.s.objectFile(u.id, name))
				if err != nil {
					yield(nil, fmt.Errorf("deposit: transaction %s: object %q: %w", u.id, name, err))
					return
				}
				path := u.s.objectFile(u.id, name) + ".data"
				l.LOB.Size = sc.Size
				l.LOB.Open = func(context.Context) (io.ReadCloser, error) { return os.Open(path) }
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// onlyKey reads Spec.Only as a key of the documents' kind: "42" is the integer key 42.
func onlyKey(only, like any) any {
	if s, ok := only.(string); ok {
		if _, isInt := like.(int64); isInt {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
	}
	return only
}
