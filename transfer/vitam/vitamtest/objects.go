package vitamtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// getObject is GET /access-external/v1/units/{idu}/objects with Accept: application/octet-stream,
// X-Qualifier and X-Version: one object of the unit's group, streamed (AER getDataObjectByUnitId,
// AIM getOneObjectFromObjectGroup). 412 020119 without a qualifier or an integer version, 401
// for a usage the contract does not allow, 404 for a unit or object it does not find.
func (s *Server) getObject(w http.ResponseWriter, r *http.Request) {
	tenant, c, _, ok := s.accessRequest(w, r)
	if !ok {
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
		vitamErrorJSON(w, http.StatusNotImplemented, "NOT_IMPLEMENTED", "ACCESS_EXTERNAL", "code_vitam", "Not Implemented",
			"vitamtest serves the object group's metadata (Accept: application/json) only as the binary")
		return
	}
	qualifier, version := r.Header.Get("X-Qualifier"), r.Header.Get("X-Version")
	n, err := strconv.Atoi(version)
	if qualifier == "" || err != nil {
		vitamErrorJSON(w, http.StatusPreconditionFailed, "020119", "External Access", "Input / Output", "Access external client error in getObject method.", "QUALIFIER or VERSION missing")
		return
	}
	if !c.allowsUsage(qualifier) {
		vitamErrorJSON(w, http.StatusUnauthorized, "UNAUTHORIZED", "ACCESS_EXTERNAL", "code_vitam", "Unauthorized", "Qualifier not allowed")
		return
	}
	s.mu.Lock()
	var found *object
	for _, u := range s.acc().units[tenant] {
		if op := s.ops[u.op]; u.id != r.PathValue("idu") || op == nil || !op.done || !c.shows(u.agency) || u.group == nil {
			continue
		}
		for _, o := range u.group.objects {
			if o.version == fmt.Sprintf("%s_%d", qualifier, n) {
				found = o
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		vitamErrorJSON(w, http.StatusNotFound, "NOT_FOUND", "ACCESS_EXTERNAL", "code_vitam", "Not Found", "ObjectGroup of Unit not found")
		return
	}
	mime := found.mime
	if mime == "" {
		mime = "application/octet-stream"
	}
	name := found.filename
	if name == "" {
		name = found.id
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Content-Length", strconv.Itoa(len(found.data)))
	w.Header().Set("X-Qualifier", qualifier)
	w.Header().Set("X-Version", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	w.Write(found.data)
}
