package consult

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/versement/versement/index"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer/vitam"
)

// archive answers every object read with body.
type archive struct{ body string }

func (a archive) FindUnits(context.Context, vitam.UnitQuery) ([]vitam.FoundUnit, error) {
	return nil, nil
}
func (a archive) Object(context.Context, string, string, int) (io.ReadCloser, vitam.ObjectInfo, error) {
	return io.NopCloser(strings.NewReader(a.body)), vitam.ObjectInfo{}, nil
}
func (a archive) Close() error { return nil }

// VITAM's answer is not taken on trust: bytes other than the manifest's are refused.
func TestVITAMObjectCheckedAgainstTheManifest(t *testing.T) {
	sum := sha256.Sum256([]byte(`{"format":"versement-dossier/1"}`))
	o := index.Object{Name: "Content/D1-2.json", Size: 32, Algorithm: "SHA-256", Digest: hex.EncodeToString(sum[:])}
	got, err := fetchChecked(context.Background(), archive{`{"format":"versement-dossier/1"}`}, "aeaq", 1, o, true)
	if err != nil || string(got) != `{"format":"versement-dossier/1"}` {
		t.Fatalf("the right bytes: %q, %v", got, err)
	}
	_, err = fetchChecked(context.Background(), archive{`{"format":"versement-dossier/2"}`}, "aeaq", 1, o, true)
	if !errors.Is(err, sip.ErrDigest) || !strings.HasPrefix(err.Error(), "object Content/D1-2.json from VITAM: object does not match the manifest: digest ") || reasonOf(err) != "digest-mismatch" {
		t.Errorf("other bytes: %v (logged as %s)", err, reasonOf(err))
	}
	if _, err = fetchChecked(context.Background(), archive{`{"format":"versement-dossier/1"} and more`}, "aeaq", 1, o, false); !errors.Is(err, sip.ErrDigest) {
		t.Errorf("longer bytes: %v", err)
	}
}
