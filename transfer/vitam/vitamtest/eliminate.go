package vitamtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// EliminationResult is what an elimination analysis pushes into a unit's #elimination
// (EliminationAnalysisResult): its verdict at the analysis date.
type EliminationResult struct {
	OperationID  string
	GlobalStatus string // KEEP, DESTROY or CONFLICT (EliminationGlobalStatus)
	// EndDate is the latest end date of the unit's appraisal rules, as the rule referential's
	// durations give it; "" when one has no start date or an unknown or unlimited duration.
	EndDate      string
	FinalAction  string
	ExtendedInfo []string // ExtendedInfoType values: BLOCKED_BY_HOLD_RULE
}

// elimState is what the elimination endpoints add to the access side: the rule referential's
// durations, the analysis results per unit, the action reports per operation.
type elimState struct {
	durations map[string]string
	results   map[string][]EliminationResult // by unit SystemId
	reports   map[string]*elimReport         // by operation id
	forced    string                         // status every elimination ends with, "" for the computed one
}

type elimReport struct {
	tenant int
	jsonl  []byte
}

var elimStates sync.Map // *Server → *elimState

func (s *Server) elim() *elimState {
	e, _ := elimStates.LoadOrStore(s, &elimState{durations: map[string]string{}, results: map[string][]EliminationResult{}, reports: map[string]*elimReport{}})
	return e.(*elimState)
}

// SetRuleDurations declares the appraisal rules of the rule referential with their durations:
// "7Y", "18M", "30D" (VITAM's RuleDuration and RuleMeasurement YEAR, MONTH, DAY), or
// "unlimited". A rule not declared has no end date, so its units are kept.
func (s *Server) SetRuleDurations(d map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.elim()
	for k, v := range d {
		e.durations[k] = v
	}
}

// EndEliminationsWith makes every later elimination operation end with status (KO, FATAL…)
// without doing anything, as a workflow failing at its first step does; "" undoes it.
func (s *Server) EndEliminationsWith(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.elim().forced = status
}

// EliminationResults returns the #elimination entries analyses pushed into a unit, oldest first.
func (s *Server) EliminationResults(unitID string) []EliminationResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EliminationResult(nil), s.elim().results[unitID]...)
}

// startElimination registers the two elimination endpoints (AER startEliminationAnalysis,
// startEliminationAction) and the batch report download of admin-external (AMER
// downloadBatchReportAsStream), which access-external serves too.
func (s *Server) startElimination(access *http.ServeMux) {
	s.elim()
	s.acc().t.Cleanup(func() { elimStates.Delete(s) })
	access.HandleFunc("POST /access-external/v1/elimination/analysis", s.eliminate(false))
	access.HandleFunc("POST /access-external/v1/elimination/action", s.eliminate(true))
	access.HandleFunc("GET /admin-external/v1/batchreport/{id}", s.batchReport)
}

// VITAM's default thresholds (VitamConfiguration eliminationAnalysisThreshold,
// eliminationActionThreshold).
const (
	analysisThreshold = 100000
	actionThreshold   = 10000
)

// preconditionFailed is the legacy error of AER (getErrorEntity) for a body it refuses.
func preconditionFailed(w http.ResponseWriter, why string) {
	vitamErrorJSON(w, http.StatusPreconditionFailed, "PRECONDITION_FAILED", "ACCESS_EXTERNAL", "code_vitam", "Precondition Failed", why)
}

// isoDate is what Java's LocalDate.parse accepts, checked further by time.Parse.
var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// eliminate is POST /access-external/v1/elimination/{analysis,action}: EliminationRequestBody
// {dslRequest: BATCH_PROCESSING DSL, date}; 412 when either is missing or malformed; else 202
// with an ItemStatus and the operation id in X-Request-Id, polled on HEAD
// /admin-external/v1/operations/{id}. The work is done at once (the units are gone before the
// operation reads COMPLETED); an operation selecting more units than $threshold ends KO, more
// than VITAM's default threshold only WARNING (EliminationCheckDistributionThresholdBase).
func (s *Server) eliminate(action bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, c, body, ok := s.accessRequest(w, r)
		if !ok {
			return
		}
		var req struct {
			DSL  json.RawMessage `json:"dslRequest"`
			Date *string         `json:"date"`
		}
		err := json.Unmarshal(body, &req)
		if err != nil {
			preconditionFailed(w, "EliminationRequestBody: "+err.Error())
			return
		}
		if len(req.DSL) == 0 || string(req.DSL) == "null" {
			preconditionFailed(w, "dslRequest is a mandatory parameter")
			return
		}
		var date time.Time
		if req.Date != nil && isoDate.MatchString(*req.Date) {
			date, err = time.Parse(time.DateOnly, *req.Date)
		}
		if req.Date == nil || date.IsZero() || err != nil {
			preconditionFailed(w, "date is a mandatory parameter, as YYYY-MM-DD")
			return
		}
		q, threshold, bad := parseBatch(req.DSL)
		if bad != "" {
			preconditionFailed(w, "dslRequest is not a BATCH_PROCESSING query: "+bad)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		units, err := s.selectUnits(tenant, c, q)
		if err != nil {
			preconditionFailed(w, err.Error())
			return
		}
		id := s.requestID()
		op := &operation{id: id, status: "OK"}
		def := analysisThreshold
		if action {
			def = actionThreshold
		}
		switch {
		case threshold != nil && len(units) > *threshold:
			op.status = "KO" // "Too many units found"
		case threshold == nil && len(units) > def:
			op.status = "KO"
		case len(units) > def:
			op.status = "WARNING"
		}
		if f := s.elim().forced; f != "" {
			op.status = f
		}
		s.ops[id] = op
		if op.status == "OK" || op.status == "WARNING" {
			if action {
				if s.eliminateUnits(tenant, c, id, units, date) {
					op.status = "WARNING"
				}
			} else {
				e := s.elim()
				for _, u := range units {
					res := s.analyse(tenant, u, date)
					res.OperationID = id
					e.results[u.id] = append(e.results[u.id], res)
				}
			}
		}
		w.Header().Set("X-Request-Id", id)
		item := map[string]any{"itemId": id, "message": "", "globalStatus": "STARTED", "statusMeter": []int{0, 1, 0, 0, 0, 0, 0},
			"data": map[string]any{}, "itemsStatus": map[string]any{}, "globalState": "RUNNING", "subTaskStatus": map[string]any{}, "lifecycleEnable": true}
		writeOK(w, http.StatusAccepted, map[string]int{"total": 1, "offset": 0, "limit": 0, "size": 1}, []any{item}, []byte("{}"))
	}
}

// parseBatch checks the DSL as BatchProcessingQuerySchemaValidator does: $roots, $query,
// $threshold only, a non-empty $query, no field name starting with '_'.
func parseBatch(raw json.RawMessage) (selectMultiple, *int, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return selectMultiple{}, nil, "not a JSON object"
	}
	for k := range top {
		if k != "$roots" && k != "$query" && k != "$threshold" {
			return selectMultiple{}, nil, "unknown key " + k
		}
	}
	var tree any
	json.Unmarshal(raw, &tree)
	if f := underscoreKey(tree); f != "" {
		return selectMultiple{}, nil, "field " + f + ": names starting with _ are forbidden"
	}
	var d struct {
		Roots     []string          `json:"$roots"`
		Query     []json.RawMessage `json:"$query"`
		Threshold *int              `json:"$threshold"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return selectMultiple{}, nil, err.Error()
	}
	if len(d.Query) == 0 {
		// VITAM refuses an empty query (GLOBAL_EMPTY_QUERY) rather than eliminating everything.
		return selectMultiple{}, nil, "empty $query"
	}
	if len(d.Query) > 1 {
		return selectMultiple{}, nil, "vitamtest evaluates one root query, not a chain of " + strconv.Itoa(len(d.Query))
	}
	return selectMultiple{Roots: d.Roots, Query: d.Query}, d.Threshold, ""
}

// analyse decides a unit at date as VITAM's EliminationAnalysisService does, for one producer:
// the appraisal rules are the unit's and its ancestors' (inherited, the nearest of one rule id
// winning; PreventInheritance is not read), the final action the nearest one declared. KEEP when
// there is no rule, a rule has no end date (no start date, a duration the referential lacks or
// unlimited), the analysis date is before an end date, or the final action is not Destroy;
// otherwise DESTROY, unless a hold rule (HoldRule, SEDA 2.2) is active at the date: CONFLICT
// with BLOCKED_BY_HOLD_RULE. A hold is active until its HoldEndDate, or StartDate + its
// duration, and for ever without either [uncertain: HoldRuleUtils was not read]. The other
// CONFLICTs need units of several producers, which vitamtest does not attach.
func (s *Server) analyse(tenant int, u *unit, date time.Time) EliminationResult {
	res := EliminationResult{GlobalStatus: "KEEP"}
	seen := map[string]bool{}
	var rules []map[string]string
	var holds []hold
	for v, depth := u, 0; v != nil && depth < 64; v, depth = s.unitByID(tenant, v.parent), depth+1 {
		for _, c := range v.rules {
			if c.name != "AppraisalRule" {
				continue
			}
			for _, r := range c.rules {
				if !seen[r["Rule"]] {
					seen[r["Rule"]] = true
					rules = append(rules, r)
				}
			}
			if res.FinalAction == "" {
				res.FinalAction = c.finalAction
			}
		}
		holds = append(holds, holdRules(v.managementXML)...)
	}
	if len(rules) == 0 {
		return res
	}
	var end time.Time
	for _, r := range rules {
		start, err := time.Parse(time.DateOnly, r["StartDate"])
		if err != nil {
			return res
		}
		e, ok := addDuration(start, s.elim().durations[r["Rule"]])
		if !ok {
			return res
		}
		if e.After(end) {
			end = e
		}
	}
	res.EndDate = end.Format(time.DateOnly)
	// VITAM keeps a unit when the date is before an end date: a rule ending on the date itself
	// has ended (areAppraisalRuleEndDatesReached).
	if date.Before(end) || res.FinalAction != "Destroy" {
		return res
	}
	res.GlobalStatus = "DESTROY"
	for _, h := range holds {
		if s.holdActive(h, date) {
			res.GlobalStatus, res.ExtendedInfo = "CONFLICT", []string{"BLOCKED_BY_HOLD_RULE"}
			break
		}
	}
	return res
}

// hold is one HoldRule of a unit's Management.
type hold struct{ rule, start, end string }

// holdRules reads the HoldRule rules of a Management block as the SIP gave it; vitamtest's index
// keeps of each category only Rule and StartDate, and a hold's end is HoldEndDate.
func holdRules(management []byte) []hold {
	var m struct {
		Holds []struct {
			Rules  []string `xml:"Rule"`
			Starts []string `xml:"StartDate"`
			Ends   []string `xml:"HoldEndDate"`
		} `xml:"HoldRule"`
	}
	if xml.Unmarshal(append(append([]byte("<Management>"), management...), "</Management>"...), &m) != nil {
		return nil
	}
	var out []hold
	for _, h := range m.Holds {
		for i, r := range h.Rules {
			x := hold{rule: r}
			// One rule per HoldRule block is what versement writes; with several, dates are
			// paired by position.
			if i < len(h.Starts) {
				x.start = h.Starts[i]
			}
			if i < len(h.Ends) {
				x.end = h.Ends[i]
			}
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) holdActive(h hold, date time.Time) bool {
	if end, err := time.Parse(time.DateOnly, h.end); err == nil {
		return date.Before(end)
	}
	start, err := time.Parse(time.DateOnly, h.start)
	if err != nil {
		return true
	}
	end, ok := addDuration(start, s.elim().durations[h.rule])
	return !ok || date.Before(end)
}

var durationRE = regexp.MustCompile(`^(\d{1,4})([YMD])$`)

func addDuration(start time.Time, d string) (time.Time, bool) {
	m := durationRE.FindStringSubmatch(d)
	if m == nil {
		return time.Time{}, false // unknown rule, or unlimited
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "Y":
		return start.AddDate(n, 0, 0), true
	case "M":
		return start.AddDate(0, n, 0), true
	}
	return start.AddDate(0, 0, n), true
}

func (s *Server) unitByID(tenant int, id string) *unit {
	if id == "" {
		return nil
	}
	for _, u := range s.acc().units[tenant] {
		if u.id == id {
			return u
		}
	}
	return nil
}

// eliminateUnits is the action: the units the analysis at date says DESTROY are removed with
// their object groups, unless a unit not removed still has them as parent
// (NON_DESTROYABLE_HAS_CHILD_UNITS); the others stay (GLOBAL_STATUS_KEEP, GLOBAL_STATUS_CONFLICT
// for a hold). It writes the batch
// report and says whether a unit was spared.
func (s *Server) eliminateUnits(tenant int, c AccessContract, op string, units []*unit, date time.Time) (spared bool) {
	status := map[*unit]string{}
	doomed := map[string]bool{}
	for _, u := range units {
		switch s.analyse(tenant, u, date).GlobalStatus {
		case "DESTROY":
			status[u], doomed[u.id] = "DELETED", true
		case "CONFLICT":
			status[u] = "GLOBAL_STATUS_CONFLICT"
		default:
			status[u] = "GLOBAL_STATUS_KEEP"
		}
	}
	all := s.acc().units[tenant]
	for changed := true; changed; {
		changed = false
		for _, child := range all {
			if doomed[child.parent] && !doomed[child.id] {
				p := s.unitByID(tenant, child.parent)
				status[p], doomed[p.id], changed = "NON_DESTROYABLE_HAS_CHILD_UNITS", false, true
			}
		}
	}
	kept := all[:0:0]
	for _, u := range all {
		if !doomed[u.id] {
			kept = append(kept, u)
		}
	}
	s.acc().units[tenant] = kept

	var lines [][]byte
	put := func(v any) {
		b, _ := json.Marshal(v)
		lines = append(lines, b)
	}
	counts := map[string]int{"OK": 0, "KO": 0, "WARNING": 0, "total": 0}
	var unitLines, groupLines []any
	sort.SliceStable(units, func(i, j int) bool { return units[i].id < units[j].id })
	for _, u := range units {
		st := status[u]
		counts["total"]++
		if st == "DELETED" {
			counts["OK"]++
		} else {
			counts["WARNING"]++
			spared = true
		}
		params := map[string]any{"id": u.id, "type": "Unit", "opi": u.op, "originatingAgency": u.agency, "status": st}
		if u.group != nil {
			params["objectGroupId"] = u.group.id
		}
		unitLines = append(unitLines, map[string]any{"id": u.id, "params": params})
		if st == "DELETED" && u.group != nil {
			ids := []string{}
			for _, o := range u.group.objects {
				ids = append(ids, o.id)
			}
			groupLines = append(groupLines, map[string]any{"id": u.group.id, "params": map[string]any{"type": "ObjectGroup", "id": u.group.id, "opi": u.op,
				"originatingAgency": u.agency, "status": "DELETED", "objectIds": ids}})
		}
	}
	outcome := "OK"
	if spared {
		outcome = "WARNING"
	}
	put(map[string]any{"tenant": tenant, "evId": op, "evType": "ELIMINATION_ACTION", "outcome": outcome, "outDetail": "",
		"outMsg": "", "rightsStatementIdentifier": map[string]string{"AccessContract": c.Identifier}, "evDetData": map[string]any{}})
	put(map[string]any{"reportType": "ELIMINATION_ACTION", "vitamResults": counts, "extendedInfo": map[string]any{}})
	put(map[string]any{})
	for _, l := range append(unitLines, groupLines...) {
		put(l)
	}
	s.elim().reports[op] = &elimReport{tenant: tenant, jsonl: append(bytes.Join(lines, []byte("\n")), '\n')}
	return spared
}

// batchReport is GET /admin-external/v1/batchreport/{id}: the JSON Lines report of a finished
// elimination action of the tenant; 404 VitamError otherwise (before the end too: VITAM stores
// the report at the end of the workflow).
func (s *Server) batchReport(w http.ResponseWriter, r *http.Request) {
	tenant, err := strconv.Atoi(r.Header.Get("X-Tenant-Id"))
	if err != nil {
		preconditionFailed(w, "X-Tenant-Id is required")
		return
	}
	s.mu.Lock()
	w.Header().Set("X-Request-Id", s.requestID())
	id := r.PathValue("id")
	rep, op := s.elim().reports[id], s.ops[id]
	s.mu.Unlock()
	if rep == nil || rep.tenant != tenant || op == nil || !op.done {
		vitamErrorJSON(w, http.StatusNotFound, "404", "ADMIN_EXTERNAL", "code_vitam", "Not Found", fmt.Sprintf("Report not found for operation %s", id))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.jsonl)))
	w.WriteHeader(http.StatusOK)
	w.Write(rep.jsonl)
}
