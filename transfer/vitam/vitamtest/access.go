package vitamtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// serverIdentity is what VITAM's security filter puts in an error's context
// (ServerIdentity#getJsonIdentity).
const serverIdentity = `{"Name":"vitamtest","Role":"access-external","ServerId":1,"SiteId":1,"GlobalPlatformId":1}`

// vitamErrorJSON writes VITAM's VitamError envelope with its own code string (VitamCodeHelper).
func vitamErrorJSON(w http.ResponseWriter, status int, code, context, state, message, description string) {
	b, _ := json.Marshal(map[string]any{"httpCode": status, "code": code, "context": context, "state": state, "message": message, "description": description})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// invalidDSL is DslScannerFilter's answer (GLOBAL_INVALID_DSL), before the resource runs.
func invalidDSL(w http.ResponseWriter, why string) {
	vitamErrorJSON(w, http.StatusBadRequest, "000601", "Vitam", "Business", "Dsl query is not valid.", why)
}

// accessRequest does what VITAM's filters do before an /access-external resource: a fresh
// X-Request-Id, the tenant, and the access contract against the context's list for the tenant
// (InternalSecurityFilter#verifyAccessContract: 401 INTERNAL_SECURITY_UNAUTHORIZED). It records
// the request.
func (s *Server) accessRequest(w http.ResponseWriter, r *http.Request) (tenant int, c AccessContract, body []byte, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acc()
	a.requests = append(a.requests, AccessRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	w.Header().Set("X-Request-Id", s.requestID())
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return 0, c, nil, false
	}
	tenant, err = strconv.Atoi(r.Header.Get("X-Tenant-Id"))
	if err != nil {
		vitamErrorJSON(w, http.StatusPreconditionFailed, "PRECONDITION_FAILED", "ACCESS_EXTERNAL", "code_vitam", "Precondition Failed", "X-Tenant-Id is required")
		return 0, c, nil, false
	}
	id := "null" // Java's string concatenation of a missing header
	if h := r.Header.Get("X-Access-Contract-Id"); h != "" {
		id = strings.Split(h, ",")[0]
	}
	c, known := a.contracts[tenant][id]
	if !known {
		vitamErrorJSON(w, http.StatusUnauthorized, "000700", serverIdentity, "INTERNAL_SECURITY_UNAUTHORIZED", "Internal Security Filter Unauthorized",
			fmt.Sprintf("Access contract %s not found in the context for the tenant id :%d", id, tenant))
		return 0, c, nil, false
	}
	return tenant, c, body, true
}

// selectMultiple is VITAM's SELECT_MULTIPLE DSL, the body of a unit search and of a DIP export.
type selectMultiple struct {
	Roots  []string          `json:"$roots"`
	Query  []json.RawMessage `json:"$query"`
	Filter *struct {
		Offset *int `json:"$offset"`
		Limit  *int `json:"$limit"`
	} `json:"$filter"`
	Projection *struct {
		Fields map[string]int `json:"$fields"`
	} `json:"$projection"`
}

// parseSelect checks the body as the DSL schema does: known keys only, $projection present, no
// field name starting with '_'. A chain of several root queries is not evaluated here.
func parseSelect(body []byte) (selectMultiple, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return selectMultiple{}, "not a JSON object: " + err.Error()
	}
	for k := range top {
		switch k {
		case "$roots", "$query", "$filter", "$projection", "$facets", "$threshold":
		default:
			return selectMultiple{}, "unknown key " + k
		}
	}
	if _, ok := top["$projection"]; !ok {
		return selectMultiple{}, "$projection is required"
	}
	var tree any
	json.Unmarshal(body, &tree)
	if f := underscoreKey(tree); f != "" {
		return selectMultiple{}, "field " + f + ": names starting with _ are forbidden"
	}
	var q selectMultiple
	if err := json.Unmarshal(body, &q); err != nil {
		return q, err.Error()
	}
	if len(q.Query) > 1 {
		return q, "vitamtest evaluates one root query, not a chain of " + strconv.Itoa(len(q.Query))
	}
	return q, ""
}

// underscoreKey is the first object key starting with '_' in a JSON tree, or "".
func underscoreKey(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if strings.HasPrefix(k, "_") {
				return k
			}
			if f := underscoreKey(sub); f != "" {
				return f
			}
		}
	case []any:
		for _, sub := range x {
			if f := underscoreKey(sub); f != "" {
				return f
			}
		}
	}
	return ""
}

// match evaluates one DSL query on a unit's JSON document.
func match(q json.RawMessage, doc map[string]any) (bool, error) {
	var op map[string]json.RawMessage
	if err := json.Unmarshal(q, &op); err != nil {
		return false, fmt.Errorf("query %s: %v", q, err)
	}
	delete(op, "$depth")
	if len(op) != 1 {
		return false, fmt.Errorf("query %s: want one operator", q)
	}
	for name, arg := range op {
		switch name {
		case "$and", "$or", "$not":
			var subs []json.RawMessage
			if err := json.Unmarshal(arg, &subs); err != nil || len(subs) == 0 {
				return false, fmt.Errorf("%s wants a non-empty array", name)
			}
			all, any := true, false
			for _, sub := range subs {
				m, err := match(sub, doc)
				if err != nil {
					return false, err
				}
				all, any = all && m, any || m
			}
			switch name {
			case "$and":
				return all, nil
			case "$or":
				return any, nil
			default:
				return !any, nil
			}
		case "$eq", "$in":
			var fv map[string]json.RawMessage
			if err := json.Unmarshal(arg, &fv); err != nil || len(fv) != 1 {
				return false, fmt.Errorf("%s wants one field", name)
			}
			for field, raw := range fv {
				var want []string
				if name == "$eq" {
					var v string
					if err := json.Unmarshal(raw, &v); err != nil {
						return false, fmt.Errorf("$eq %s: vitamtest compares strings only", field)
					}
					want = []string{v}
				} else if err := json.Unmarshal(raw, &want); err != nil {
					return false, fmt.Errorf("$in %s wants an array of strings", field)
				}
				for _, have := range values(doc[field]) {
					for _, w := range want {
						if have == w {
							return true, nil
						}
					}
				}
				return false, nil
			}
		case "$exists":
			var field string
			if err := json.Unmarshal(arg, &field); err != nil {
				return false, fmt.Errorf("$exists wants a field name")
			}
			_, ok := doc[field]
			return ok, nil
		}
		return false, fmt.Errorf("vitamtest does not evaluate %s", name)
	}
	return false, nil
}

// values are a field's keyword values: VITAM matches $eq on an array when one element equals.
func values(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	}
	return nil
}

// document is the unit as access-external returns it (the real JSON's field names).
func (u *unit) document(tenant int) map[string]any {
	doc := map[string]any{
		"#id": u.id, "#tenant": tenant, "DescriptionLevel": u.level, "Title": u.title,
		"#opi": u.op, "#operations": []string{u.op}, "#unitType": "INGEST",
		"#originating_agency": u.agency, "#originating_agencies": []string{u.agency},
		"#unitups": []string{}, "#allunitups": []string{}, "#version": 0, "#sedaVersion": "2.2",
	}
	if u.parent != "" {
		doc["#unitups"], doc["#allunitups"] = []string{u.parent}, []string{u.parent}
	}
	for k, v := range map[string][]string{"OriginatingSystemId": u.systemIDs, "OriginatingAgencyArchiveUnitIdentifier": u.identifiers} {
		if len(v) > 0 {
			doc[k] = v
		}
	}
	for k, v := range map[string]string{"StartDate": u.startDate, "EndDate": u.endDate} {
		if v != "" {
			doc[k] = v
		}
	}
	if u.group != nil {
		doc["#object"] = u.group.id
	}
	mgmt := map[string]any{}
	for _, c := range u.rules {
		cat := map[string]any{}
		if len(c.rules) > 0 {
			cat["Rules"] = c.rules // EndDate needs the rule referential, which vitamtest has not
		}
		if c.finalAction != "" {
			cat["FinalAction"] = c.finalAction
		}
		mgmt[c.name] = cat
	}
	doc["#management"] = mgmt
	return doc
}

// selectUnits runs the query over the tenant's units of completed operations, restricted by the
// contract as access-internal restricts every query (AccessContractRestrictionHelper: units of
// other originating agencies are simply not found).
func (s *Server) selectUnits(tenant int, c AccessContract, q selectMultiple) ([]*unit, error) {
	var out []*unit
	for _, u := range s.acc().units[tenant] {
		if op := s.ops[u.op]; op == nil || !op.done || !c.shows(u.agency) {
			continue
		}
		if len(q.Roots) > 0 && !contains(q.Roots, u.id) && !contains(q.Roots, u.parent) {
			continue
		}
		if len(q.Query) == 1 {
			ok, err := match(q.Query[0], u.document(tenant))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out = append(out, u)
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// searchUnits is GET /access-external/v1/units, or POST with X-Http-Method-Override: GET (the
// override filter honours GET and DELETE only). A POST without it is VITAM's mass update.
func (s *Server) searchUnits(w http.ResponseWriter, r *http.Request) {
	tenant, c, body, ok := s.accessRequest(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost && r.Header.Get("X-Http-Method-Override") != "GET" {
		invalidDSL(w, "POST /units without X-Http-Method-Override: GET is a mass update, whose DSL needs $action")
		return
	}
	q, bad := parseSelect(body)
	if bad != "" {
		invalidDSL(w, bad)
		return
	}
	s.mu.Lock()
	units, err := s.selectUnits(tenant, c, q)
	var results []map[string]any
	offset, limit := 0, 10000 // GlobalDatas.LIMIT_LOAD
	if q.Filter != nil && q.Filter.Offset != nil {
		offset = *q.Filter.Offset
	}
	if q.Filter != nil && q.Filter.Limit != nil {
		limit = *q.Filter.Limit
	}
	total := len(units)
	for i, u := range units {
		if i < offset || len(results) >= limit {
			continue
		}
		results = append(results, project(u.document(tenant), q))
	}
	s.mu.Unlock()
	if err != nil {
		invalidDSL(w, err.Error())
		return
	}
	if results == nil {
		results = []map[string]any{}
	}
	writeOK(w, http.StatusOK, map[string]int{"total": total, "offset": offset, "limit": limit, "size": len(results)}, results, json.RawMessage(body))
}

func project(doc map[string]any, q selectMultiple) map[string]any {
	if q.Projection == nil || len(q.Projection.Fields) == 0 {
		return doc
	}
	out := map[string]any{}
	for f, on := range q.Projection.Fields {
		if v, ok := doc[f]; ok && on == 1 {
			out[f] = v
		}
	}
	return out
}

// writeOK writes RequestResponseOK: VITAM's clients tell it from an error by "$hits".
func writeOK(w http.ResponseWriter, status int, hits map[string]int, results any, context json.RawMessage) {
	b, _ := json.Marshal(map[string]any{"httpCode": status, "$hits": hits, "$results": results, "$facetResults": []any{}, "$context": context})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
