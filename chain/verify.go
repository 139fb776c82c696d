package chain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// Verify checks the chain of the file at path, that it holds the head file beside it (HeadPath)
// and, when published is not nil, that head too (the file may have grown since, never shrunk).
// each, when not nil, is called for every good entry, so that the caller checks what its entries
// mean without reading the file twice.
//
// A missing head file is a problem for a file with entries, unless a published head is given;
// a head file one or more entries behind the file is a note (a crash between an append and the
// head's update), not a problem.
func Verify[E any](ctx context.Context, path string, fm *Format[E], published *Head, each func(E)) (Audit, error) {
	// The head first: a writer appends to the file before it updates the head, so a head read
	// before the file is never ahead of it.
	hpath := HeadPath(path)
	fileHead, herr := ReadHead(hpath)
	var probes []*probe
	var fileProbe, pubProbe *probe
	if herr == nil {
		fileProbe = newProbe(fileHead)
		probes = append(probes, fileProbe)
	}
	if published != nil {
		pubProbe = newProbe(*published)
		probes = append(probes, pubProbe)
	}
	var n int64
	rep, err := Read(ctx, path, fm, func(e E) {
		n++
		h := fm.Link(&e).Hash
		for _, p := range probes {
			p.see(n, h)
		}
		if each != nil {
			each(e)
		}
	})
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) > 0 && !rep.TornTail {
		return rep, nil // a broken chain: its heads mean nothing
	}
	switch {
	case errors.Is(herr, fs.ErrNotExist) && n > 0 && published == nil:
		rep.Problems = append(rep.Problems, Problem{Reason: fmt.Sprintf("%s is missing: nothing shows whether entries were removed from the end of the %s (give --head COUNT:HASH %s to check against a head published elsewhere)", hpath, fm.Name, fm.HeadFrom)})
	case errors.Is(herr, fs.ErrNotExist) && n > 0:
		rep.Notes = append(rep.Notes, hpath+" is missing")
	case errors.Is(herr, fs.ErrNotExist):
	case herr != nil:
		rep.Problems = append(rep.Problems, Problem{Reason: herr.Error()})
	default:
		rep.checkHead(fm.Name, fm.Writer, hpath, fileProbe, n)
		if rep.TornTail && fileHead.Entries == n+1 {
			torn := &rep.Problems[0]
			torn.Reason = "incomplete last line, which " + hpath + " counts as a committed entry: the line was damaged or cut, not left by an interrupted append"
		}
	}
	if pubProbe != nil {
		rep.checkHead(fm.Name, fm.Writer, "--head", pubProbe, n)
	}
	return rep, nil
}

func (rep *Audit) checkHead(noun, writer, source string, p *probe, n int64) {
	extra, problem := p.against(noun, n)
	rep.Heads = append(rep.Heads, HeadCheck{Source: source, Head: p.h.String(), Extra: extra, OK: problem == ""})
	switch {
	case problem != "":
		rep.Problems = append(rep.Problems, Problem{Reason: source + " " + problem})
	case extra > 0 && source != "--head":
		// Published heads fall behind as the file grows; the file beside it should not.
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s records %d entries, the %s has %d and extends it: the head was not updated after the last append (an interrupted %s; the next %s updates it)", source, p.h.Entries, noun, n, writer, writer))
	}
}
