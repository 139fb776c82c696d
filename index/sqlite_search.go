package index

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Search returns the entries matching q, best first: fewest edits, then birth year, then the
// order entries were recorded in.
func (s *SQLite) Search(ctx context.Context, q Query) ([]Match, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	// One read transaction: the candidates and the entries then read are of one snapshot,
	// though a run replaces entries meanwhile.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("index %s: search: %w", s.path, err)
	}
	defer tx.Rollback()
	rd := s.rd.in(ctx, tx)
	top := newTop(q.Limit)
	switch {
	case q.Identifier != "":
		err = rd.searchIdentifier(ctx, q, top)
	case q.Name != "":
		err = rd.searchName(ctx, q, top)
	default:
		err = rd.searchYear(ctx, q, top)
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: search: %w", s.path, err)
	}
	out := make([]Match, 0, len(top.c))
	for _, c := range top.c {
		var doc []byte
		if err := rd.doc.QueryRowContext(ctx, c.id).Scan(&doc); err != nil {
			return nil, fmt.Errorf("index %s: search: %w", s.path, err)
		}
		e, err := decodeEntry(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, Match{Entry: e, Score: score(c.edits), Edits: c.edits, Reason: c.reason, Why: why(c.reason, c.edits, c.idName, q)})
	}
	return out, nil
}

// candidate is an entry read for a search, before it is known to match.
type candidate struct {
	id, by     int64
	profile    string
	born       string
	yFrom, yTo int
	toks       string
	edits      int
	reason     Reason
	idName     string
}

func scanCandidate(rows *sql.Rows, c *candidate, extra ...any) error {
	return rows.Scan(append([]any{&c.id, &c.by, &c.profile, &c.born, &c.yFrom, &c.yTo, &c.toks}, extra...)...)
}

// top keeps the best limit candidates, ordered by (edits, birth year, id): memory is the limit's,
// whatever the number of entries read.
type top struct {
	limit int
	c     []candidate
}

func newTop(limit int) *top { return &top{limit: limit} }

func less(a, b candidate) bool {
	if a.edits != b.edits {
		return a.edits < b.edits
	}
	if a.by != b.by {
		return a.by < b.by
	}
	return a.id < b.id
}

func (t *top) full() bool { return len(t.c) >= t.limit }

// beaten reports whether every candidate ranked at or after c would be left out.
func (t *top) beaten(c candidate) bool { return t.full() && less(t.c[len(t.c)-1], c) }

func (t *top) add(c candidate) {
	i, found := slices.BinarySearchFunc(t.c, c, func(a, b candidate) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	if found { // the same entry reached through another token: same rank, already kept
		return
	}
	if i >= t.limit {
		return
	}
	t.c = slices.Insert(t.c, i, c)
	if len(t.c) > t.limit {
		t.c = t.c[:t.limit]
	}
}

// searchIdentifier finds the entries one of whose identifiers, or whose key, is q.Identifier.
func (rd *readStmts) searchIdentifier(ctx context.Context, q Query, t *top) error {
	var nq nameQuery
	if q.Name != "" {
		nq = newNameQuery(q.Name)
	}
	for _, st := range []struct {
		stmt   *sql.Stmt
		reason Reason
	}{{rd.keys, ReasonKey}, {rd.idents, ReasonIdentifier}} {
		rows, err := st.stmt.QueryContext(ctx, q.Identifier)
		if err != nil {
			return err
		}
		for rows.Next() {
			c := candidate{reason: st.reason}
			if err := scanCandidate(rows, &c, &c.idName); err != nil {
				rows.Close()
				return err
			}
			if !narrows(q, c.profile, c.born, c.yFrom, c.yTo) {
				continue
			}
			if q.Name != "" {
				e, ok := nq.cost(strings.Fields(c.toks))
				if !ok {
					continue
				}
				c.edits = e
			}
			c.by = 0 // exact identifiers rank in the order entries were recorded
			t.add(c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// searchYear lists the entries registered in q.Year, in the order they were recorded.
func (rd *readStmts) searchYear(ctx context.Context, q Query, t *top) error {
	rows, err := rd.years.QueryContext(ctx, q.Year)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() && !t.full() {
		c := candidate{reason: ReasonYear}
		if err := scanCandidate(rows, &c); err != nil {
			return err
		}
		if narrows(q, c.profile, c.born, c.yFrom, c.yTo) {
			c.by = 0
			t.add(c)
		}
	}
	return rows.Err()
}

// token is a vocabulary token a searched span matched.
type token struct {
	id, df int64
	text   string
	edits  int
}

// lookup finds the vocabulary tokens within the span's tolerated edits.
func (rd *readStmts) lookup(ctx context.Context, sp span) ([]token, error) {
	if sp.edits == 0 {
		var t token
		err := rd.vocab.QueryRowContext(ctx, sp.text).Scan(&t.id, &t.text, &t.df)
		if err == sql.ErrNoRows {
			return nil, nil
		}
		return []token{t}, err
	}
	list, err := json.Marshal(deletes(sp.text, sp.edits))
	if err != nil {
		return nil, err
	}
	rows, err := rd.fuzzy.QueryContext(ctx, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []token
	for rows.Next() {
		var t token
		if err := rows.Scan(&t.id, &t.text, &t.df); err != nil {
			return nil, err
		}
		if t.edits = Distance(sp.text, t.text, sp.edits); t.edits <= sp.edits {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// searchName finds entries by name. Every entry that matches holds, for each word of the query,
// a token matching a span that contains the word; so the entries are read through the spans of one
// word alone, the word whose own matches are held by fewest entries, and each is then checked
// against the whole query. Tokens are read fewest edits first, and each token's entries in rank
// order, so the reading stops once no later entry could rank in the limit.
func (rd *readStmts) searchName(ctx context.Context, q Query, t *top) error {
	nq := newNameQuery(q.Name)
	// The driving word is the one whose tokens are held by fewest entries: its postings are
	// read. The filter word is the next rarest: a posting is kept only if its entry also holds
	// one of the filter word's tokens, checked in postings (tokens, year, entry is its key)
	// before the entry's row is read: at 1M entries those row reads were most of a search.
	found := map[int][]token{} // span index → tokens
	type word struct {
		at int
		df int64
	}
	var words []word
	for i, sp := range nq.spans {
		if sp.to-sp.from != 1 {
			continue
		}
		toks, err := rd.lookup(ctx, sp)
		if err != nil {
			return err
		}
		found[i] = toks
		w := word{at: sp.from}
		for _, tk := range toks {
			w.df += tk.df
		}
		words = append(words, w)
	}
	slices.SortStableFunc(words, func(a, b word) int { return cmp.Compare(a.df, b.df) })
	toks, err := rd.wordTokens(ctx, nq, words[0].at, found)
	if err != nil {
		return err
	}
	var filter string // JSON list of token ids, or "" for no filter
	if len(words) > 1 && words[1].at != words[0].at {
		ft, err := rd.wordTokens(ctx, nq, words[1].at, found)
		if err != nil {
			return err
		}
		if len(ft) == 0 {
			return nil // the filter word matches nothing: no entry can match
		}
		if len(ft) <= maxFilterTokens {
			ids := make([]int64, len(ft))
			for i, tk := range ft {
				ids[i] = tk.id
			}
			b, err := json.Marshal(ids)
			if err != nil {
				return err
			}
			filter = string(b)
		}
	}
	slices.SortStableFunc(toks, func(a, b token) int { return a.edits - b.edits })
	byFrom, byTo := 0, 9999
	if q.Born != "" {
		byFrom = yearOf(q.Born)
		byTo = byFrom
	}
	for _, tk := range toks {
		if t.beaten(candidate{edits: tk.edits, by: -1}) {
			break
		}
		if err := rd.readPostings(ctx, q, nq, tk, byFrom, byTo, filter, t); err != nil {
			return err
		}
	}
	return nil
}

// maxFilterTokens caps the filter word's tokens: each is one lookup per posting read, and past
// a few dozen reading the entry's row costs less.
const maxFilterTokens = 24

// wordTokens are the tokens of every span that contains the word at: an entry that matches
// holds one of them. A token two spans reach keeps the fewer edits, which the reading uses as the
// bound below which no entry of that token can rank.
func (rd *readStmts) wordTokens(ctx context.Context, nq nameQuery, at int, found map[int][]token) ([]token, error) {
	var toks []token
	seen := map[int64]int{} // token id → index in toks
	for i, sp := range nq.spans {
		if sp.from > at || sp.to <= at {
			continue
		}
		got, ok := found[i]
		if !ok {
			var err error
			if got, err = rd.lookup(ctx, sp); err != nil {
				return nil, err
			}
			found[i] = got
		}
		for _, tk := range got {
			if j, ok := seen[tk.id]; ok {
				toks[j].edits = min(toks[j].edits, tk.edits)
				continue
			}
			seen[tk.id] = len(toks)
			toks = append(toks, tk)
		}
	}
	return toks, nil
}

func (rd *readStmts) readPostings(ctx context.Context, q Query, nq nameQuery, tk token, byFrom, byTo int, filter string, t *top) error {
	var rows *sql.Rows
	var err error
	if filter == "" {
		rows, err = rd.postings.QueryContext(ctx, tk.id, byFrom, byTo)
	} else {
		rows, err = rd.filtered.QueryContext(ctx, tk.id, byFrom, byTo, filter)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c candidate
		if err := scanCandidate(rows, &c); err != nil {
			return err
		}
		// The rows come by birth year then id and none can cost less than its token: once
		// the limit's last beats (token's edits, this row), it beats every row after.
		if t.beaten(candidate{edits: tk.edits, by: c.by, id: c.id}) {
			break
		}
		if !narrows(q, c.profile, c.born, c.yFrom, c.yTo) {
			continue
		}
		e, ok := nq.cost(strings.Fields(c.toks))
		if !ok {
			continue
		}
		c.edits = e
		c.reason = ReasonName
		if e > 0 {
			c.reason = ReasonNameFuzzy
		}
		t.add(c)
	}
	return rows.Err()
}
