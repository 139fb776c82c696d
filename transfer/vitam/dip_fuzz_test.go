package vitam_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/versement/versement/transfer/vitam"
)

// A DIP manifest comes from the network, and its Uris name the zip entries a caller extracts:
// whatever it holds, reading ends with a manifest whose objects stay under Content/, or an error.
func FuzzReadDIPManifest(f *testing.F) {
	f.Add([]byte(`<ArchiveDeliveryRequestReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2"><DataObjectPackage><DataObjectGroup id="g"><BinaryDataObject id="o"><DataObjectVersion>BinaryMaster_1</DataObjectVersion><Uri>Content/o.json</Uri><MessageDigest algorithm="SHA-512">ab</MessageDigest><Size>2</Size></BinaryDataObject></DataObjectGroup><DescriptiveMetadata><ArchiveUnit id="u"><Management/><Content><Title>T</Title><OriginatingSystemId>42</OriginatingSystemId></Content><ArchiveUnit id="r"><ArchiveUnitRefId>x</ArchiveUnitRefId></ArchiveUnit><DataObjectReference><DataObjectGroupReferenceId>g</DataObjectGroupReferenceId></DataObjectReference></ArchiveUnit></DescriptiveMetadata><ManagementMetadata><OriginatingAgencyIdentifier>A</OriginatingAgencyIdentifier></ManagementMetadata></DataObjectPackage></ArchiveDeliveryRequestReply>`))
	f.Add([]byte(`<ArchiveDeliveryRequestReply><DataObjectPackage><DataObjectGroup><BinaryDataObject><Uri>Content/../../etc/passwd</Uri></BinaryDataObject></DataObjectGroup></DataObjectPackage></ArchiveDeliveryRequestReply>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := vitam.ReadDIPManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, o := range m.Objects {
			if !strings.HasPrefix(o.URI, "Content/") || strings.Contains(o.URI, "..") {
				t.Fatalf("accepted Uri %q", o.URI)
			}
		}
		for _, u := range m.Units {
			if u.SystemID == "" {
				t.Fatal("accepted a unit without id")
			}
		}
	})
}

func TestReadDIPManifestRefusesAnUriOutsideContent(t *testing.T) {
	_, err := vitam.ReadDIPManifest(strings.NewReader(`<ArchiveDeliveryRequestReply><DataObjectPackage><DataObjectGroup id="g"><BinaryDataObject id="o"><Uri>Content/../../etc/passwd</Uri></BinaryDataObject></DataObjectGroup></DataObjectPackage></ArchiveDeliveryRequestReply>`))
	if err == nil || err.Error() != `DIP manifest: object o: Uri "Content/../../etc/passwd" is not under Content/` {
		t.Fatalf("got %v", err)
	}
	_, err = vitam.ReadDIPManifest(strings.NewReader(`<ArchiveTransfer/>`))
	if err == nil || err.Error() != "DIP manifest: root element is ArchiveTransfer, not ArchiveDeliveryRequestReply" {
		t.Fatalf("got %v", err)
	}
}
