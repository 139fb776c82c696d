package chain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Problem is one finding, at a line of the file (1-based), or about the file as a whole (Line 0:
// its head).
type Problem struct {
	Line   int    `json:"line,omitempty"`
	Ref    string `json:"ref,omitempty"` // what the entry is about, as Format.Ref names it
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Ref != "":
		return fmt.Sprintf("line %d (%s): %s", p.Line, p.Ref, p.Reason)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	case p.Ref != "":
		return fmt.Sprintf("%s: %s", p.Ref, p.Reason)
	}
	return p.Reason
}

// HeadCheck is one head the file was checked against.
type HeadCheck struct {
	Source string `json:"source"` // the head file's path, or "--head" for one given by the caller
	Head   string `json:"head"`   // COUNT:HASH or HASH
	Extra  int64  `json:"appended_since"`
	OK     bool   `json:"ok"`
}

// Audit is what reading or verifying a file found.
type Audit struct {
	Path     string      `json:"path"`
	Entries  int         `json:"entries"`             // well-formed, correctly chained entries before the first break
	Last     string      `json:"last_hash"`           // hash of the last good entry: publish it to anchor the file
	Heads    []HeadCheck `json:"heads,omitempty"`     // the heads it was checked against (Verify)
	TornTail bool        `json:"torn_tail,omitempty"` // last line incomplete: an interrupted append
	Notes    []string    `json:"notes,omitempty"`     // worth knowing, not wrong
	Problems []Problem   `json:"problems"`
}

// OK reports whether nothing is wrong.
func (a Audit) OK() bool { return len(a.Problems) == 0 && !a.TornTail }

// ctxEvery is how many lines are read between two looks at the context.
const ctxEvery = 256

// Scan reads r, checking each line, calls each for every good entry with the byte offset of its
// end, and stops at the first broken line: everything after it is unproven. The error is for a
// read that failed or a cancelled context; what is wrong with the file is in the Audit.
func Scan[E any](ctx context.Context, r io.Reader, fm *Format[E], each func(e E, end int64)) (Audit, error) {
	return scanFrom(ctx, r, fm, Head{Hash: Genesis}, 0, each)
}

// scanFrom is Scan of a file read from offset off, where entry from.Entries (hash from.Hash)
// ends: the entries after it are checked as Scan checks them, chained to it, their line numbers
// and end offsets those of the whole file. rep.Entries counts the entries read.
func scanFrom[E any](ctx context.Context, r io.Reader, fm *Format[E], from Head, off int64, each func(e E, end int64)) (Audit, error) {
	var rep Audit
	br := bufio.NewReaderSize(r, 64<<10)
	prev, seq := from.Hash, from.Entries
	problem := func(line int, e *E, reason string) {
		p := Problem{Line: line, Reason: reason}
		if e != nil && fm.Ref != nil {
			p.Ref = fm.Ref(e)
		}
		rep.Problems = append(rep.Problems, p)
	}
	for lineNo := int(from.Entries) + 1; ; lineNo++ {
		if lineNo%ctxEvery == 0 && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		line, err := readLine(br, MaxLine)
		if len(line) == 0 && err == io.EOF {
			break
		}
		if errors.Is(err, errLongLine) {
			problem(lineNo, nil, fmt.Sprintf("longer than %d bytes: not %s", MaxLine, fm.EntryName))
			break
		}
		if err != nil && err != io.EOF {
			return rep, err
		}
		off += int64(len(line))
		if err == io.EOF { // no newline: an append that did not finish
			rep.TornTail = true
			problem(lineNo, nil, "incomplete last line (an append was interrupted)")
			break
		}
		var e E
		body := line[:len(line)-1]
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			problem(lineNo, nil, "not "+fm.EntryName+": "+err.Error())
			break
		}
		lk := fm.Link(&e)
		recorded, h, ok := lineHash(body)
		switch {
		case dec.InputOffset() != int64(len(body)):
			problem(lineNo, &e, "data after the entry on the same line")
		case !ok:
			problem(lineNo, &e, `the line does not end with its "hash" field: the entry was altered`)
		case h != recorded || recorded != lk.Hash:
			problem(lineNo, &e, fmt.Sprintf("content does not match its hash (recorded %s, computed %s): the entry was altered", short(recorded), short(h)))
		case lk.Prev != prev:
			problem(lineNo, &e, fmt.Sprintf("previous-entry hash %s does not match line %d's hash %s: an entry was removed, inserted or reordered", short(lk.Prev), lineNo-1, short(prev)))
		case lk.Seq != seq+1:
			problem(lineNo, &e, fmt.Sprintf("sequence number %d, expected %d", lk.Seq, seq+1))
		case fm.Check != nil:
			if err := fm.Check(&e); err != nil {
				problem(lineNo, &e, "not "+fm.EntryName+": "+err.Error())
			}
		}
		if len(rep.Problems) > 0 {
			break
		}
		prev, seq = lk.Hash, lk.Seq
		rep.Entries++
		rep.Last = lk.Hash
		each(e, off)
	}
	return rep, nil
}

// Read calls each for every good entry of the file at path and returns what it found.
func Read[E any](ctx context.Context, path string, fm *Format[E], each func(E)) (Audit, error) {
	f, err := os.Open(path)
	if err != nil {
		return Audit{Path: path}, fmt.Errorf("%s: %w", fm.Name, err)
	}
	defer f.Close()
	rep, err := Scan(ctx, f, fm, func(e E, _ int64) { each(e) })
	rep.Path = path
	return rep, err
}
