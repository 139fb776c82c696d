package seda

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/beevik/etree"
)

// spill holds one part of the manifest (groups or units) on disk until Close.
type spill struct {
	f *os.File
	*bufio.Writer
}

func newSpill(dir, what string) (*spill, error) {
	f, err := os.CreateTemp(dir, "seda-"+what+"-*.xml")
	if err != nil {
		return nil, fmt.Errorf("seda: temporary file for the manifest's %s: %w", what, err)
	}
	return &spill{f: f, Writer: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *spill) element(e *etree.Element) error { return writeElement(s.Writer, e) }

func (s *spill) copyTo(w io.Writer) error {
	if err := s.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

func (s *spill) remove() {
	if s == nil || s.f == nil {
		return
	}
	s.f.Close()
	os.Remove(s.f.Name())
	s.f = nil
}
