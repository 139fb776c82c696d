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
	ints := rec.KeyKind == "int"
	keyOf := func(e unitEntry) (int64, string) {
		var k string
		_ = json.Unmarshal(e.Key, &k)
		if ints {
			n, _ := strconv.ParseInt(k, 10, 64)
			return n, ""
		}
		return 0, strings.TrimPrefix(k, "s:")
	}
	slices.SortFunc(idx, func(a, b unitEntry) int {
		an, as := keyOf(a)
		bn, bs := keyOf(b)
		if ints {
			return cmpInt(an, bn)
		}
		return strings.Compare(as, bs) // bytewise, as SQL's binary collation orders text keys
	})
	src := &unitsSource{s: s, id: rec.ID, entries: idx}
	// Describe: each table's columns and kinds as the first document that has the table says.
	seen := map[string]bool{}
	for d, err := range src.Dossiers(ctx, extract.Spec{}) {
		if err != nil {
			return nil, err
		}
		for _, t := range d.Tables {
			if t.Absent || seen[strings.ToUpper(t.Table)] {
				continue
			}
			seen[strings.ToUpper(t.Table)] = true
			cols := slices.Clone(t.Columns)
			for i := range cols {
				cols[i].DBType = string(cols[i].Kind) // a deposit has no database type
				cols[i].Nullable = true
			}
			src.tables = append(src.tables, extract.TableInfo{Name: t.Table, Columns: cols})
		}
	}
	return src, nil
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
