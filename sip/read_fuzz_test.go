package sip

import (
	"context"
	"strings"
	"testing"
)

// The manifest reader takes untrusted bytes: whatever they are, it ends without panicking, and
// what it hands over stays within its bounds.
func FuzzReadManifest(f *testing.F) {
	ns := `xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"`
	for _, seed := range []string{
		`<ArchiveTransfer ` + ns + `><MessageIdentifier>M</MessageIdentifier></ArchiveTransfer>`,
		`<ArchiveTransfer ` + ns + `><DataObjectPackage><DataObjectGroup id="G"><BinaryDataObject id="B"><Uri>Content/a</Uri>` +
			`<MessageDigest algorithm="SHA-256">00</MessageDigest><Size>1</Size></BinaryDataObject></DataObjectGroup>` +
			`<DescriptiveMetadata><ArchiveUnit id="U"><Content><Title>t</Title><OriginatingSystemId>k</OriginatingSystemId>` +
			`<OriginatingAgencyArchiveUnitIdentifier>COD_ETU:1</OriginatingAgencyArchiveUnitIdentifier><Agent><FirstName>a</FirstName></Agent>` +
			`</Content><DataObjectReference><DataObjectGroupReferenceId>G</DataObjectGroupReferenceId></DataObjectReference>` +
			`<ArchiveUnit id="V"><ArchiveUnitRefId>U</ArchiveUnitRefId></ArchiveUnit></ArchiveUnit></DescriptiveMetadata></DataObjectPackage></ArchiveTransfer>`,
		`<ArchiveTransfer ` + ns + `><DataObjectPackage><BinaryDataObject id="B"><DataObjectGroupId>G</DataObjectGroupId><Size>-1</Size></BinaryDataObject></DataObjectPackage></ArchiveTransfer>`,
		`<!DOCTYPE a><ArchiveTransfer ` + ns + `/>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><ArchiveTransfer ` + ns + `><Comment>` + "\xe9" + `</Comment></ArchiveTransfer>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h TransferHeader
		parseManifest(context.Background(), strings.NewReader(string(data)), &h, func(u Unit) error {
			if len(u.Objects) > maxPerUnit || len(u.Keywords) > maxPerUnit+1 || len(u.Title) > maxText {
				t.Errorf("unit %q past the bounds: %d objects, %d keywords, title %d bytes", u.ID, len(u.Objects), len(u.Keywords), len(u.Title))
			}
			return nil
		})
		if len(h.MessageIdentifier) > maxText {
			t.Errorf("MessageIdentifier of %d bytes", len(h.MessageIdentifier))
		}
	})
}
