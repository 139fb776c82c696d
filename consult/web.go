package consult

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/language"

	"github.com/versement/versement/index"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
)

// Web is the Service as the pages of `versement serve` call it (server.Consultation). Refs are
// "profile␟key": the server keeps them in the session and never puts them in a URL.
type Web struct {
	*Service
	Lang language.Tag // of the sheets and tables
}

var _ server.Consultation = Web{}

const refSep = "\x1f"

func ref(e index.Entry) string { return e.Profile + refSep + e.Key }

func unref(r string) (profile, key string, err error) {
	p, k, ok := strings.Cut(r, refSep)
	if !ok || p == "" || k == "" {
		return "", "", fmt.Errorf("%w: not a dossier reference", ErrNotFound)
	}
	return p, k, nil
}

func request(u server.User, m server.Motive) Request {
	return Request{User: roles.User{ID: u.ID, Name: u.Name, Groups: u.Groups, Via: u.Via}, Motive: Motive{Category: m.Category, Text: m.Text}}
}

// webError maps the service's errors onto the server's: what a person may read (a refusal, a
// bad query) is kept; the rest is an internal error whose text goes to the server's log only.
func webError(err error) error {
	var r *Refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &r):
		return server.Refuse(r.Message)
	case errors.Is(err, ErrNotFound):
		return server.ErrNotFound
	case errors.Is(err, index.ErrBadQuery):
		return server.Refuse(err.Error())
	}
	return err
}

// Motives lists the motive categories of the roles file.
func (w Web) Motives(tag language.Tag) []server.MotiveCategory {
	var out []server.MotiveCategory
	for _, id := range w.Policy.MotiveIDs() {
		m, _ := w.Policy.Motive(id)
		label := m.Label // the roles file's words, in French
		if !lang.IsFrench(tag) || label == "" {
			label = m.ID
		}
		out = append(out, server.MotiveCategory{ID: m.ID, Label: label})
	}
	return out
}

// Search is Service.Search with the form's criteria.
func (w Web) Search(ctx context.Context, u server.User, q server.SearchQuery, m server.Motive) (server.SearchResult, error) {
	iq := index.Query{Name: q.Text, Identifier: q.Identifier, Year: q.Year}
	if !q.Born.IsZero() {
		iq.Born = q.Born.Format("2006-01-02")
	}
	ms, err := w.Service.Search(ctx, request(u, m), iq)
	if err != nil {
		return server.SearchResult{}, webError(err)
	}
	t := lang.Printer(w.Lang)
	res := server.SearchResult{Columns: []string{t.Sprintf("Dossier"), t.Sprintf("Birth name"), t.Sprintf("First name"), t.Sprintf("Born"), t.Sprintf("Years"), t.Sprintf("Tier"), t.Sprintf("Why it matched")}}
	limit := iq.Limit
	if limit == 0 {
		limit = index.DefaultLimit
	}
	res.More = len(ms) >= limit
	for _, mt := range ms {
		e := mt.Entry
		years := ""
		if len(e.StartDate) >= 4 && len(e.EndDate) >= 4 {
			years = e.StartDate[:4] + "–" + e.EndDate[:4]
		}
		res.Hits = append(res.Hits, server.Hit{Ref: ref(e), Cells: []string{e.Title, e.Person.BirthName, e.Person.FirstName, dateIn(w.Lang, e.Person.BirthDate), years, tierIn(w.Lang, e.Tier), mt.Why}})
	}
	return res, nil
}

// Fiche reads the dossier and gives its sheet, with its objects and the whole dossier offered
// for download.
func (w Web) Fiche(ctx context.Context, u server.User, r string, m server.Motive) (server.Fiche, error) {
	profile, key, err := unref(r)
	if err != nil {
		return server.Fiche{}, webError(err)
	}
	f, err := w.Service.Fiche(ctx, request(u, m), profile, key)
	if err != nil {
		return server.Fiche{}, webError(err)
	}
	body, err := f.Fragment(w.Lang)
	if err != nil {
		return server.Fiche{}, err
	}
	t := lang.Printer(w.Lang)
	out := server.Fiche{Title: f.Title, Body: body}
	out.Downloads = append(out.Downloads, server.Download{ID: zipItem, Label: t.Sprintf("The whole dossier (zip, with its manifest)")})
	for _, o := range f.Objects {
		out.Downloads = append(out.Downloads, server.Download{ID: o.Name, Label: fmt.Sprintf("%s (%s, %s)", o.Name, o.MIME, sizeIn(o.Size))})
	}
	return out, nil
}

const zipItem = "\x00zip"

// Download streams one object, or the whole dossier as a zip.
func (w Web) Download(ctx context.Context, u server.User, r, item string, m server.Motive) (server.Object, error) {
	profile, key, err := unref(r)
	if err != nil {
		return server.Object{}, webError(err)
	}
	req := request(u, m)
	if item == zipItem {
		// Decide and log before the first byte: Package does both before writing the zip, and
		// reports a refusal through the pipe before anything is sent.
		pr, pw := io.Pipe()
		started := make(chan error, 1)
		go func() {
			err := w.Service.Package(ctx, req, profile, key, &firstWrite{w: pw, started: started})
			select {
			case started <- err:
			default:
			}
			pw.CloseWithError(err)
		}()
		if err := <-started; err != nil {
			return server.Object{}, webError(err)
		}
		return server.Object{Name: "dossier-" + profile + "-" + sanitize(key) + ".zip", ContentType: "application/zip", Size: -1, Body: pr}, nil
	}
	d, err := w.Service.Object(ctx, req, profile, key, item)
	if err != nil {
		return server.Object{}, webError(err)
	}
	return server.Object{Name: d.Name, ContentType: d.MIME, Size: d.Size, Body: d}, nil
}

// firstWrite tells, at its first write, that the zip has started (nil on started): the checks
// and the log entry are done by then.
type firstWrite struct {
	w       io.Writer
	started chan error
	once    bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.once {
		f.once = true
		f.started <- nil
	}
	return f.w.Write(p)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// AccessLog lists every access to the dossier, newest last.
func (w Web) AccessLog(ctx context.Context, u server.User, r string, m server.Motive) (server.Table, error) {
	profile, key, err := unref(r)
	if err != nil {
		return server.Table{}, webError(err)
	}
	rows, err := w.Service.Accesses(ctx, request(u, m), profile, key)
	if err != nil {
		return server.Table{}, webError(err)
	}
	return accessTable(w.Lang, w.Policy, rows), nil
}
