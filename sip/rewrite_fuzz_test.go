package sip

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// Rewrite takes SIPs as they are at a target, which may have been altered or come from another
// producer: whatever the manifest, it ends without panicking, and a rewrite it returns opens
// again with exactly the units it says it kept.
func FuzzRewrite(f *testing.F) {
	ns := `xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"`
	unit := func(id, key, group string) string {
		return `<ArchiveUnit id="` + id + `"><Content><DescriptionLevel>File</DescriptionLevel><Title>t` + key + `</Title><OriginatingSystemId>` + key +
			`</OriginatingSystemId></Content><DataObjectReference><DataObjectGroupReferenceId>` + group + `</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit>`
	}
	group := func(id, obj, uri string) string {
		return `<DataObjectGroup id="` + id + `"><BinaryDataObject id="` + obj + `"><Uri>` + uri + `</Uri><MessageDigest algorithm="SHA-256">00</MessageDigest><Size>1</Size></BinaryDataObject></DataObjectGroup>`
	}
	for _, seed := range []string{
		`<ArchiveTransfer ` + ns + `><Comment>c</Comment><Date>2026-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier><DataObjectPackage>` +
			group("G1", "B1", "Content/a") + group("G2", "B2", "Content/b") + `<DescriptiveMetadata><ArchiveUnit id="S"><Content><DescriptionLevel>Series</DescriptionLevel><Title>s</Title></Content>` +
			unit("U1", "1", "G1") + unit("U2", "2", "G2") + `</ArchiveUnit></DescriptiveMetadata></DataObjectPackage></ArchiveTransfer>`,
		`<ArchiveTransfer ` + ns + `><Date>2026-01-01T00:00:00</Date><MessageIdentifier>M</MessageIdentifier><DataObjectPackage>` + group("G1", "B1", "Content/a") +
			`<DescriptiveMetadata><ArchiveUnit id="S"><Content><Title>s</Title></Content>` + unit("U1", "1", "G1") + unit("U2", "2", "G1") + unit("U3", "3", "G9") +
			`</ArchiveUnit></DescriptiveMetadata></DataObjectPackage></ArchiveTransfer>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, manifest []byte) {
		if len(manifest) > 1<<16 {
			return
		}
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		for _, name := range []string{"Content/a", "Content/b"} {
			w, _ := zw.Create(name)
			w.Write([]byte("x"))
		}
		w, _ := zw.Create("manifest.xml")
		w.Write(manifest)
		zw.Close()
		ctx := context.Background()
		r, err := Open(ctx, bytes.NewReader(zb.Bytes()), int64(zb.Len()))
		if err != nil {
			return
		}
		var out bytes.Buffer
		res, err := Rewrite(ctx, r, &out, RewriteOptions{Drop: func(k string) bool { return k == "1" }, MessageID: "M2", Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			if errors.Is(err, ErrNothingKept) && out.Len() != 0 {
				t.Errorf("ErrNothingKept after writing %d bytes", out.Len())
			}
			return
		}
		r2, err := Open(ctx, bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("the rewrite does not open: %v", err)
		}
		kept := 0
		err = r2.Units(ctx, func(u Unit) error {
			for _, k := range u.OriginatingSystemIDs {
				if k == "1" {
					t.Errorf("dropped dossier 1 is still in unit %s", u.ID)
				}
			}
			if u.ParentID != "" && len(u.OriginatingSystemIDs) > 0 {
				kept++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("the rewrite's manifest does not read: %v", err)
		}
		if kept != res.Kept {
			t.Errorf("the rewrite says %d kept, its manifest has %d dossier units", res.Kept, kept)
		}
	})
}
