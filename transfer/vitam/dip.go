package vitam

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDIPManifest bounds the manifest read: a DIP holds at most 10,000 units.
const maxDIPManifest = 256 << 20

// DIPManifest is what versement reads from a DIP's manifest.xml (an ArchiveDeliveryRequestReply,
// minimal or full, of any SEDA 2.x version): the units and the objects, with VITAM's ids.
type DIPManifest struct {
	MessageIdentifier string // the export operation (full DIP only)
	OriginatingAgency string // "Export VITAM" for a DIP of several producers
	Units             []DIPUnit
	Objects           []DIPObject
}

// DIPUnit is one ArchiveUnit of a DIP (not the references VITAM adds between selected units).
type DIPUnit struct {
	SystemID            string // the unit's id attribute: its VITAM GUID
	Title               string
	OriginatingSystemID []string
	Identifiers         []string // OriginatingAgencyArchiveUnitIdentifier
	ObjectGroup         string   // DataObjectGroupReferenceId, "" when no object was exported
}

// DIPObject is one BinaryDataObject of a DIP.
type DIPObject struct {
	ID, Group       string
	Version         string // BinaryMaster_1…
	URI             string // Content/<id>.<ext>: the entry in the zip
	DigestAlgorithm string // SHA-512: VITAM's own digest, whatever the SIP declared
	Digest          string
	Size            int64
	MimeType        string
	Filename        string // FileInfo/Filename, the SIP's name for the object
}

// ReadDIPManifest reads a DIP manifest without validating it. The bytes come from the network:
// the read is bounded, and an object Uri outside Content/ is refused, so that a caller may
// extract the DIP by it.
func ReadDIPManifest(r io.Reader) (DIPManifest, error) {
	var x struct {
		XMLName           xml.Name
		MessageIdentifier string `xml:"MessageIdentifier"`
		Groups            []struct {
			ID      string `xml:"id,attr"`
			Objects []struct {
				ID      string `xml:"id,attr"`
				Version string `xml:"DataObjectVersion"`
				URI     string `xml:"Uri"`
				Digest  struct {
					Algo  string `xml:"algorithm,attr"`
					Value string `xml:",chardata"`
				} `xml:"MessageDigest"`
				Size     int64  `xml:"Size"`
				MimeType string `xml:"FormatIdentification>MimeType"`
				Filename string `xml:"FileInfo>Filename"`
			} `xml:"BinaryDataObject"`
		} `xml:"DataObjectPackage>DataObjectGroup"`
		Units  []dipUnitXML `xml:"DataObjectPackage>DescriptiveMetadata>ArchiveUnit"`
		Agency string       `xml:"DataObjectPackage>ManagementMetadata>OriginatingAgencyIdentifier"`
	}
	lr := &io.LimitedReader{R: r, N: maxDIPManifest + 1}
	dec := xml.NewDecoder(lr)
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		if lr.N <= 0 {
			return DIPManifest{}, fmt.Errorf("DIP manifest larger than %d bytes", maxDIPManifest)
		}
		return DIPManifest{}, fmt.Errorf("DIP manifest: not well-formed XML: %w", err)
	}
	if x.XMLName.Local != "ArchiveDeliveryRequestReply" {
		return DIPManifest{}, fmt.Errorf("DIP manifest: root element is %s, not ArchiveDeliveryRequestReply", x.XMLName.Local)
	}
	m := DIPManifest{MessageIdentifier: strings.TrimSpace(x.MessageIdentifier), OriginatingAgency: strings.TrimSpace(x.Agency)}
	for _, g := range x.Groups {
		for _, o := range g.Objects {
			uri := strings.TrimSpace(o.URI)
			if !strings.HasPrefix(uri, "Content/") || strings.Contains(uri, "..") || strings.Contains(uri, `\`) {
				return DIPManifest{}, fmt.Errorf("DIP manifest: object %s: Uri %q is not under Content/", o.ID, uri)
			}
			m.Objects = append(m.Objects, DIPObject{ID: o.ID, Group: g.ID, Version: strings.TrimSpace(o.Version), URI: uri,
				DigestAlgorithm: o.Digest.Algo, Digest: strings.TrimSpace(o.Digest.Value), Size: o.Size,
				MimeType: strings.TrimSpace(o.MimeType), Filename: strings.TrimSpace(o.Filename)})
		}
	}
	var walk func([]dipUnitXML) error
	walk = func(us []dipUnitXML) error {
		for _, u := range us {
			if u.RefID == "" {
				if u.ID == "" {
					return errors.New("DIP manifest: an ArchiveUnit without id")
				}
				m.Units = append(m.Units, DIPUnit{SystemID: u.ID, Title: strings.TrimSpace(u.Title), OriginatingSystemID: u.SystemIDs,
					Identifiers: u.Identifiers, ObjectGroup: strings.TrimSpace(u.Group)})
			}
			if err := walk(u.Units); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(x.Units); err != nil {
		return DIPManifest{}, err
	}
	return m, nil
}

type dipUnitXML struct {
	ID          string       `xml:"id,attr"`
	RefID       string       `xml:"ArchiveUnitRefId"`
	Title       string       `xml:"Content>Title"`
	SystemIDs   []string     `xml:"Content>OriginatingSystemId"`
	Identifiers []string     `xml:"Content>OriginatingAgencyArchiveUnitIdentifier"`
	Group       string       `xml:"DataObjectReference>DataObjectGroupReferenceId"`
	Units       []dipUnitXML `xml:"ArchiveUnit"`
}
