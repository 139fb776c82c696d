package transfer

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"regexp"
	"strings"
)

// manifestName is VITAM's rule for the root manifest (SedaUtils): manifest.xml or xxx_manifest.xml.
var manifestName = regexp.MustCompile(`^([a-zA-Z0-9_\-]{0,56}[_-]){0,1}manifest\.xml$`)

// InspectZip describes an existing SIP zip for a one-off transfer: its name, size, the digest (algo "SHA-256" or "SHA-512") of its root manifest and the manifest's
// MessageIdentifier. It leaves SHA256 empty: hashing the whole SIP is left to whoever needs it
// (SIP.Prepare, or the S3 target, which computes it in the read that hashes the parts, so that a
// one-off transfer reads and hashes each byte no more often than the pipeline's does). It streams:
// memory does not grow with the SIP or the manifest.
func InspectZip(ctx context.Context, path, algo string) (SIP, error) {
	var newHash func() hash.Hash
	switch strings.ToUpper(algo) {
	case "SHA-256", "SHA256":
		algo, newHash = "SHA-256", sha256.New
	case "SHA-512", "SHA512":
		algo, newHash = "SHA-512", sha512.New
	default:
		return SIP{}, fmt.Errorf("manifest digest algorithm %q: want SHA-256 or SHA-512", algo)
	}
	sip := SIP{Name: filepath.Base(path), Path: path}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return sip, fmt.Errorf("SIP %s: not a readable zip: %w", path, err)
	}
	defer zr.Close()
	var manifest *zip.File
	for _, f := range zr.File {
		if !strings.Contains(f.Name, "/") && manifestName.MatchString(f.Name) {
			if manifest != nil {
				return sip, fmt.Errorf("SIP %s: two manifests at the root (%s, %s)", path, manifest.Name, f.Name)
			}
			manifest = f
		}
	}
	if manifest == nil {
		return sip, fmt.Errorf("SIP %s: no manifest.xml at the root of the zip", path)
	}
	rc, err := manifest.Open()
	if err != nil {
		return sip, fmt.Errorf("SIP %s: %s: %w", path, manifest.Name, err)
	}
	defer rc.Close()
	h := newHash()
	id, err := messageIdentifier(io.TeeReader(ContextReader(ctx, rc), h))
	if err != nil {
		return sip, fmt.Errorf("SIP %s: %s: %w", path, manifest.Name, err)
	}
	if _, err := io.Copy(h, ContextReader(ctx, rc)); err != nil { // the rest after MessageIdentifier
		return sip, fmt.Errorf("SIP %s: %s: %w", path, manifest.Name, err)
	}
	sip.MessageID = id
	sip.ManifestDigest = Digest{Algo: algo, Value: hex.EncodeToString(h.Sum(nil))}
	if err := sip.Check(); err != nil {
		return sip, err
	}
	return sip, nil
}

// messageIdentifier reads up to the root's MessageIdentifier child.
func messageIdentifier(r io.Reader) (string, error) {
	dec := xml.NewDecoder(r)
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return "", errors.New("no MessageIdentifier under the root element")
		}
		if err != nil {
			return "", fmt.Errorf("not well-formed XML: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && el.Name.Local == "MessageIdentifier" {
				var s string
				if err := dec.DecodeElement(&s, &el); err != nil {
					return "", fmt.Errorf("MessageIdentifier: not well-formed XML: %w", err)
				}
				s = strings.TrimSpace(s)
				if s == "" || len(s) > 1024 {
					return "", errors.New("MessageIdentifier is empty or longer than 1024 characters")
				}
				return s, nil
			}
		case xml.EndElement:
			depth--
		}
	}
}
