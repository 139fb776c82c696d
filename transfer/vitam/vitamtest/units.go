package vitamtest

import (
	"archive/zip"
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/versement/versement/transfer/vitam"
)

// AccessContract is an access contract of VITAM's referential that the client certificate's
// context allows on a tenant (VITAM's Permissions[tenant].AccessContracts), with the fields that
// decide what it shows (AccessContractModel: the defaults are VITAM's, false and empty).
type AccessContract struct {
	Identifier             string
	OriginatingAgencies    []string // the #originating_agency values whose units it shows
	EveryOriginatingAgency bool
	DataObjectVersion      []string // usages a DIP may carry: BinaryMaster, Dissemination…
	EveryDataObjectVersion bool
}

func (c AccessContract) shows(agency string) bool {
	if c.EveryOriginatingAgency {
		return true
	}
	for _, a := range c.OriginatingAgencies {
		if a == agency {
			return true
		}
	}
	return false
}

func (c AccessContract) allowsUsage(usage string) bool {
	if c.EveryDataObjectVersion {
		return true
	}
	for _, u := range c.DataObjectVersion {
		if u == usage {
			return true
		}
	}
	return false
}

// AccessRequest is one request access-external received, as it came.
type AccessRequest struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// accessState is what access-external knows: the contracts, the units indexed from accepted
// ingests, the DIPs built. It lives beside the Server (looked up by it) and shares its mutex.
type accessState struct {
	t         testing.TB
	contracts map[int]map[string]AccessContract
	units     map[int][]*unit // per tenant, in ingest order
	systemIDs map[string]map[string]string
	dips      map[string]*dip // by operation id
	requests  []AccessRequest
	seq       int
}

type dip struct {
	tenant int
	zip    []byte
}

var accessStates sync.Map // *Server → *accessState

func (s *Server) acc() *accessState {
	a, _ := accessStates.Load(s)
	return a.(*accessState)
}

// unit is an archive unit as VITAM indexes it: its SystemId (#id), its operation (#opi), its
// producer (#originating_agency, from the SIP's ManagementMetadata), the Content fields a search
// reads, and the SIP's Content and Management XML, which a DIP gives back.
type unit struct {
	id, manifestID, op, parent string
	agency                     string
	level, title               string
	systemIDs, identifiers     []string
	startDate, endDate         string
	rules                      []ruleCategory
	contentXML, managementXML  []byte
	group                      *group
}

type ruleCategory struct {
	name        string
	rules       []map[string]string
	finalAction string
}

type group struct {
	id      string
	objects []*object
}

type object struct {
	id, version, uri          string
	mime, formatID, formatLit string
	filename                  string
	data                      []byte
	sha512                    string
}

// guid is a VITAM-looking GUID (36 characters) with the prefix VITAM gives each kind of object:
// aeaq… units, aeba… object groups, aeaa… binary objects.
func (a *accessState) guid(prefix string) string {
	a.seq++
	return fmt.Sprintf("%s%0*d", prefix, 36-len(prefix), a.seq)
}

// UnitSystemIDs maps the manifest ids of an ingest operation's units to their SystemIds, as the
// ATR would give them.
func (s *Server) UnitSystemIDs(op string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.acc().systemIDs[op] {
		out[k] = v
	}
	return out
}

// AddAccessContract declares a contract on a tenant; a request naming another is refused as
// VITAM's security filter does (401).
func (s *Server) AddAccessContract(tenant int, c AccessContract) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acc()
	if a.contracts[tenant] == nil {
		a.contracts[tenant] = map[string]AccessContract{}
	}
	a.contracts[tenant][c.Identifier] = c
}

// AccessRequests returns the requests access-external received on /access-external, in order.
func (s *Server) AccessRequests() []AccessRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AccessRequest(nil), s.acc().requests...)
}

// startAccess registers access-external's /access-external endpoints and the state behind them.
func (s *Server) startAccess(t testing.TB, access *http.ServeMux) {
	accessStates.Store(s, &accessState{
		t: t, contracts: map[int]map[string]AccessContract{}, units: map[int][]*unit{},
		systemIDs: map[string]map[string]string{}, dips: map[string]*dip{},
	})
	t.Cleanup(func() { accessStates.Delete(s) })
	access.HandleFunc("GET /access-external/v1/units", s.searchUnits)
	access.HandleFunc("POST /access-external/v1/units", s.searchUnits)
	access.HandleFunc("POST /access-external/v1/dipexport", s.exportDIP)
	access.HandleFunc("GET /access-external/v1/dipexport/{id}/dip", s.getDIP)
	access.HandleFunc("GET /access-external/v1/units/{idu}/objects", s.getObject)
}

// indexIngest wraps the ingest POST: once the workflow accepted the SIP, its units are indexed
// under their new SystemIds, as VITAM's metadata and storage steps do. They become visible once
// the operation is completed.
func (s *Server) indexIngest(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r)
		id := w.Header().Get("X-Request-Id")
		s.mu.Lock()
		op := s.ops[id]
		accepted := op != nil && op.fatal == "" && s.ATR == nil && vitam.Accepted(op.status)
		s.mu.Unlock()
		if !accepted {
			return
		}
		var tenant int
		fmt.Sscan(r.Header.Get("X-Tenant-Id"), &tenant)
		units, err := readUnits(body)
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.acc()
		if err != nil {
			// The faithful ingest accepted it: a SIP this index cannot read is a test bug.
			a.t.Errorf("vitamtest: indexing the units of operation %s: %v", id, err)
			return
		}
		ids := map[string]string{}
		byManifest := map[string]*unit{}
		for _, u := range units {
			u.id, u.op = a.guid("aeaqaaaaaa"), id
			ids[u.manifestID] = u.id
			byManifest[u.manifestID] = u
			if u.group != nil {
				u.group.id = a.guid("aebaaaaaaa")
				for _, o := range u.group.objects {
					o.id = a.guid("aeaaaaaaaa")
				}
			}
		}
		for _, u := range units {
			if p := byManifest[u.parent]; p != nil {
				u.parent = p.id
			}
		}
		a.systemIDs[id] = ids
		a.units[tenant] = append(a.units[tenant], units...)
		op.atr = withSystemIDs(op.atr, units)
	}
}

// The part of a SEDA 2.x manifest the index reads. Element names match in any namespace.
type xManifest struct {
	Groups []struct {
		ID      string `xml:"id,attr"`
		Objects []struct {
			ID       string `xml:"id,attr"`
			Version  string `xml:"DataObjectVersion"`
			URI      string `xml:"Uri"`
			MimeType string `xml:"FormatIdentification>MimeType"`
			FormatID string `xml:"FormatIdentification>FormatId"`
			FormatL  string `xml:"FormatIdentification>FormatLitteral"`
			Filename string `xml:"FileInfo>Filename"`
		} `xml:"BinaryDataObject"`
	} `xml:"DataObjectPackage>DataObjectGroup"`
	Units  []xUnit `xml:"DataObjectPackage>DescriptiveMetadata>ArchiveUnit"`
	Agency string  `xml:"DataObjectPackage>ManagementMetadata>OriginatingAgencyIdentifier"`
}

type xUnit struct {
	ID         string `xml:"id,attr"`
	Management struct {
		Inner      []byte `xml:",innerxml"`
		Categories []struct {
			XMLName     xml.Name
			Rules       []string `xml:"Rule"`
			StartDates  []string `xml:"StartDate"`
			FinalAction string   `xml:"FinalAction"`
		} `xml:",any"`
	} `xml:"Management"`
	Content struct {
		Inner       []byte   `xml:",innerxml"`
		Level       string   `xml:"DescriptionLevel"`
		Title       string   `xml:"Title"`
		SystemIDs   []string `xml:"OriginatingSystemId"`
		Identifiers []string `xml:"OriginatingAgencyArchiveUnitIdentifier"`
		StartDate   string   `xml:"StartDate"`
		EndDate     string   `xml:"EndDate"`
	} `xml:"Content"`
	Groups []string `xml:"DataObjectReference>DataObjectGroupReferenceId"`
	Units  []xUnit  `xml:"ArchiveUnit"`
}

// readUnits reads an accepted SIP: its manifest's units (parents before children) with their
// object group and the objects' bytes.
func readUnits(sip []byte) ([]*unit, error) {
	zr, err := zip.NewReader(bytes.NewReader(sip), int64(len(sip)))
	if err != nil {
		return nil, err
	}
	entries := map[string]*zip.File{}
	var manifest *zip.File
	for _, f := range zr.File {
		entries[f.Name] = f
		if !strings.Contains(f.Name, "/") && manifestName.MatchString(f.Name) {
			manifest = f
		}
	}
	if manifest == nil {
		return nil, fmt.Errorf("no manifest")
	}
	raw, err := readEntry(manifest)
	if err != nil {
		return nil, err
	}
	var m xManifest
	if err := xml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	groups := map[string]*group{}
	for _, g := range m.Groups {
		gr := &group{}
		for _, o := range g.Objects {
			f := entries[o.URI]
			if f == nil {
				return nil, fmt.Errorf("object %s: no %s in the SIP", o.ID, o.URI)
			}
			data, err := readEntry(f)
			if err != nil {
				return nil, err
			}
			sum := sha512.Sum512(data)
			gr.objects = append(gr.objects, &object{version: o.Version, uri: o.URI, mime: o.MimeType, formatID: o.FormatID,
				formatLit: o.FormatL, filename: o.Filename, data: data, sha512: hex.EncodeToString(sum[:])})
		}
		groups[g.ID] = gr
	}
	var out []*unit
	var walk func(parent string, xs []xUnit)
	walk = func(parent string, xs []xUnit) {
		for _, x := range xs {
			u := &unit{manifestID: x.ID, parent: parent, agency: m.Agency, level: x.Content.Level, title: x.Content.Title,
				systemIDs: x.Content.SystemIDs, identifiers: x.Content.Identifiers,
				startDate: x.Content.StartDate, endDate: x.Content.EndDate,
				contentXML: bytes.TrimSpace(x.Content.Inner), managementXML: x.Management.Inner}
			for _, c := range x.Management.Categories {
				rc := ruleCategory{name: c.XMLName.Local, finalAction: c.FinalAction}
				for i, r := range c.Rules {
					rule := map[string]string{"Rule": r}
					if i < len(c.StartDates) {
						rule["StartDate"] = c.StartDates[i]
					}
					rc.rules = append(rc.rules, rule)
				}
				u.rules = append(u.rules, rc)
			}
			// VITAM keeps one object group per unit.
			if len(x.Groups) > 0 {
				u.group = groups[x.Groups[0]]
			}
			out = append(out, u)
			walk(x.ID, x.Units)
		}
	}
	walk("", m.Units)
	return out, nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 256<<20))
}

// ext is the extension of an object's Uri, which VITAM keeps on the DIP's file name.
func ext(uri string) string { return strings.TrimPrefix(path.Ext(uri), ".") }

// withSystemIDs adds to an OK ATR built from the manifest what VITAM's ATR says of an accepted
// ingest: a DataObjectPackage whose DescriptiveMetadata gives, for each unit of the manifest (by
// its id), the SystemId it was archived under (ArchiveUnit/Content/SystemId, as in VITAM's own
// sedaArchiveTransferReply.xml). A client finds its units there to address them later (access,
// elimination).
func withSystemIDs(atr []byte, units []*unit) []byte {
	i := bytes.Index(atr, []byte("<ReplyCode>"))
	if i < 0 || len(units) == 0 {
		return atr
	}
	var b bytes.Buffer
	b.Write(atr[:i])
	b.WriteString("<DataObjectPackage><DescriptiveMetadata>")
	for _, u := range units {
		fmt.Fprintf(&b, "<ArchiveUnit id=\"%s\"><Content><SystemId>%s</SystemId></Content></ArchiveUnit>", esc(u.manifestID), esc(u.id))
	}
	b.WriteString("</DescriptiveMetadata><ManagementMetadata/></DataObjectPackage>")
	b.Write(atr[i:])
	return b.Bytes()
}
