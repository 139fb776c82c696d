package deposit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
)

var asOf = civil.Date{Year: 2026, Month: 11, Day: 30}

func builtinProfile(name string) (*profiles.Profile, error) { return profiles.Builtin(name) }

// newService opens a deposit service whose closes go to target with state, processed by Process
// called from the test (Enqueue records the ids).
func newService(t *testing.T, dir, state, target string, queued *[]string) *Service {
	t.Helper()
	cfg := Config{Establishment: "univ-a", Dir: dir, Profile: builtinProfile,
		Job: func(*profiles.Profile) pipeline.JobSpec {
			return pipeline.JobSpec{Target: target, State: state, AsOf: asOf, MaxDossiers: 10}
		},
		Enqueue: func(_ context.Context, id string) error { *queued = append(*queued, id); return nil },
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// upload puts data as object name in chunks of size n.
func upload(t *testing.T, s *Service, id, name string, data []byte, n int) Object {
	t.Helper()
	var o Object
	for off := 0; off < len(data) || off == 0; off += n {
		end := min(off+n, len(data))
		c := Chunk{Name: name, Offset: int64(off), Length: int64(end - off), Total: int64(len(data)), ChunkSHA256: hexSum(data[off:end]), ObjectSHA256: hexSum(data)}
		var err error
		if o, err = s.PutChunk(context.Background(), id, c, bytes.NewReader(data[off:end])); err != nil {
			t.Fatalf("chunk at %d: %v", off, err)
		}
		if len(data) == 0 {
			break
		}
	}
	return o
}

func readAll(t *testing.T, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantError checks that err is a *Error of kind k about field, with message msg.
func wantError(t *testing.T, err error, k ErrorKind, field, msg string) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v (%T), want a *deposit.Error", err, err)
	}
	if e.Kind != k || e.Field != field || (msg != "" && e.Msg != msg) {
		t.Fatalf("error %s %q: %q, want %s %q: %q", e.Kind, e.Field, e.Msg, k, field, msg)
	}
	return e
}
