package index_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/versement/versement/index"
	"github.com/versement/versement/index/indextest"
)

func openTemp(t *testing.T) *index.SQLite {
	t.Helper()
	s, err := index.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	indextest.Run(t, func(t *testing.T) index.Store { return openTemp(t) })
}
