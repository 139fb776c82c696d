package vitamtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// exportDIP is POST /access-external/v1/dipexport (v1: a SELECT_MULTIPLE DSL, a minimal DIP):
// 202 with an ItemStatus and the operation id in X-Request-Id, the operation then polled on
// HEAD /admin-external/v1/operations/{id} like an ingest (context EXPORT_DIP). The DIP is built
// at once from the units the contract shows; a query that selects none ends the operation KO
// (CreateManifest#checkNumberOfUnit: "the DSL query has no result").
func (s *Server) exportDIP(w http.ResponseWriter, r *http.Request) {
	tenant, c, body, ok := s.accessRequest(w, r)
	if !ok {
		return
	}
	q, bad := parseSelect(body)
	if bad != "" {
		invalidDSL(w, bad)
		return
	}
	s.mu.Lock()
	units, err := s.selectUnits(tenant, c, q)
	if err != nil {
		s.mu.Unlock()
		invalidDSL(w, err.Error())
		return
	}
	id := s.requestID()
	op := &operation{id: id, status: "OK"}
	zipped, objects := buildDIP(id, units, c)
	switch {
	case len(units) == 0:
		op.status = "KO"
	case objects == 0:
		op.status = "WARNING" // VITAM's outcome when the selection has no binary object
	}
	s.ops[id] = op
	if op.status != "KO" {
		s.acc().dips[id] = &dip{tenant: tenant, zip: zipped}
	}
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", id)
	item := map[string]any{"itemId": id, "message": "", "globalStatus": "STARTED", "statusMeter": []int{0, 1, 0, 0, 0, 0, 0},
		"data": map[string]any{}, "itemsStatus": map[string]any{}, "globalState": "RUNNING", "subTaskStatus": map[string]any{}, "lifecycleEnable": true}
	writeOK(w, http.StatusAccepted, map[string]int{"total": 1, "offset": 0, "limit": 0, "size": 1}, []any{item}, []byte("{}"))
}

// getDIP is GET /access-external/v1/dipexport/{id}/dip: 200 and the zip once the operation is
// completed; 404 with an empty body before, or for an operation of another tenant (Java: the
// workspace has no such zip; the RAML's 202 is not what the code answers).
func (s *Server) getDIP(w http.ResponseWriter, r *http.Request) {
	tenant, _, _, ok := s.accessRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	id := r.PathValue("id")
	op, d := s.ops[id], s.acc().dips[id]
	ready := op != nil && op.done && d != nil && d.tenant == tenant
	s.mu.Unlock()
	if !ready {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(d.zip)))
	w.WriteHeader(http.StatusOK)
	w.Write(d.zip)
}

// headOperation answers the status of DIP exports as of ingests, with their own context.
func (s *Server) headOperation(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		_, isDIP := s.acc().dips[r.PathValue("id")]
		s.mu.Unlock()
		if isDIP {
			w = contextWriter{w, "EXPORT_DIP"}
		}
		next(w, r)
	}
}

type contextWriter struct {
	http.ResponseWriter
	context string
}

func (c contextWriter) WriteHeader(code int) {
	if c.Header().Get("X-Context-Id") != "" {
		c.Header().Set("X-Context-Id", c.context)
	}
	c.ResponseWriter.WriteHeader(code)
}

// buildDIP writes the DIP zip as VITAM's export does (ManifestBuilder, StoreDIP): manifest.xml,
// an ArchiveDeliveryRequestReply holding only the DataObjectPackage (the minimal DIP of v1),
// then Content/<object id>.<extension of the SIP's Uri>. Objects are those of the usages the
// contract allows and, per usage, only the last version, as VITAM's documentation of the DIP
// (« Structuration des DIP », V6) says: "si pour un usage donné le groupe d'objets techniques
// comprend plusieurs versions, c'est l'objet technique correspondant à la dernière version qui
// sera exporté". [uncertain: the older worker code read (ManifestBuilder, ObjectGroupMapper with
// javax JAXB) wrote every version; 7.0.1's was not read.] Their MessageDigest is the SHA-512
// VITAM computed at ingest.
func buildDIP(op string, units []*unit, c AccessContract) ([]byte, int) {
	var m bytes.Buffer
	m.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	m.WriteString(`<ArchiveDeliveryRequestReply xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:pr="info:lc/xmlns/premis-v2" xmlns="fr:gouv:culture:archivesdefrance:seda:v2.2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="fr:gouv:culture:archivesdefrance:seda:v2.2 seda-vitam-2.2-main.xsd">`)
	m.WriteString("<DataObjectPackage>")
	type file struct {
		name string
		data []byte
	}
	var files []file
	written := map[*unit]bool{}
	for _, u := range units {
		if u.group == nil {
			continue
		}
		objs := lastVersions(u.group.objects, c)
		if len(objs) == 0 {
			continue
		}
		written[u] = true
		fmt.Fprintf(&m, `<DataObjectGroup id="%s">`, u.group.id)
		for _, o := range objs {
			name := "Content/" + o.id
			if e := ext(o.uri); e != "" {
				name += "." + e
			}
			files = append(files, file{name, o.data})
			fmt.Fprintf(&m, `<BinaryDataObject id="%s"><DataObjectVersion>%s</DataObjectVersion><Uri>%s</Uri><MessageDigest algorithm="SHA-512">%s</MessageDigest><Size>%d</Size>`,
				o.id, esc(o.version), esc(name), o.sha512, len(o.data))
			m.WriteString("<FormatIdentification>")
			for _, kv := range [][2]string{{"FormatLitteral", o.formatLit}, {"MimeType", o.mime}, {"FormatId", o.formatID}} {
				if kv[1] != "" {
					fmt.Fprintf(&m, "<%s>%s</%s>", kv[0], esc(kv[1]), kv[0])
				}
			}
			fmt.Fprintf(&m, "</FormatIdentification><FileInfo><Filename>%s</Filename></FileInfo></BinaryDataObject>", esc(o.filename))
		}
		m.WriteString("</DataObjectGroup>")
	}
	m.WriteString("<DescriptiveMetadata>")
	selected := map[string]bool{}
	for _, u := range units {
		selected[u.id] = true
	}
	agencies := map[string]bool{}
	for i, u := range units {
		agencies[u.agency] = true
		fmt.Fprintf(&m, `<ArchiveUnit id="%s"><Management>%s</Management><Content>%s</Content>`, u.id, u.managementXML, u.contentXML)
		// A selected child is referred to, as VITAM does, by a new unit holding its id.
		for j, child := range units {
			if child.parent == u.id {
				fmt.Fprintf(&m, `<ArchiveUnit id="ref-%d-%d"><ArchiveUnitRefId>%s</ArchiveUnitRefId></ArchiveUnit>`, i, j, child.id)
			}
		}
		if written[u] {
			fmt.Fprintf(&m, "<DataObjectReference><DataObjectGroupReferenceId>%s</DataObjectGroupReferenceId></DataObjectReference>", u.group.id)
		}
		m.WriteString("</ArchiveUnit>")
	}
	agency := "Export VITAM" // VITAM's value for a DIP of several producers
	if len(agencies) == 1 {
		for a := range agencies {
			agency = a
		}
	}
	fmt.Fprintf(&m, "</DescriptiveMetadata><ManagementMetadata><OriginatingAgencyIdentifier>%s</OriginatingAgencyIdentifier></ManagementMetadata></DataObjectPackage></ArchiveDeliveryRequestReply>\n", esc(agency))

	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	mod := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, f := range append([]file{{"manifest.xml", m.Bytes()}}, files...) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mod})
		w.Write(f.data)
	}
	zw.Close()
	return z.Bytes(), len(files)
}

// lastVersions keeps, per usage the contract allows, the object with the highest version
// number (BinaryMaster_2 over BinaryMaster_1).
func lastVersions(objs []*object, c AccessContract) []*object {
	best := map[string]*object{}
	num := func(o *object) int {
		_, n, _ := strings.Cut(o.version, "_")
		v, _ := strconv.Atoi(n)
		return v
	}
	for _, o := range objs {
		usage, _, _ := strings.Cut(o.version, "_")
		if !c.allowsUsage(usage) {
			continue
		}
		if b := best[usage]; b == nil || num(o) > num(b) {
			best[usage] = o
		}
	}
	out := make([]*object, 0, len(best))
	for _, o := range best {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out
}
