package vitam

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/versement/versement/transfer"
)

// EliminationAnalysis asks VITAM which of the units (their SystemIds, as the ATRs give them) may
// be destroyed at date (YYYY-MM-DD): POST /access-external/v1/elimination/analysis. VITAM
// writes its verdict (KEEP, DESTROY, CONFLICT) into each unit's #elimination; nothing is
// destroyed. It returns the operation id once the operation ended OK or WARNING.
func (a *Access) EliminationAnalysis(ctx context.Context, unitIDs []string, date string) (string, error) {
	return a.eliminate(ctx, "analysis", unitIDs, date)
}

// EliminationAction asks VITAM to destroy the units (and their object groups) whose appraisal
// rule has ended at date and whose final action is Destroy: POST
// /access-external/v1/elimination/action. VITAM itself spares the others (rule running, Keep,
// children left, hold) and says so in the operation's report (EliminationReport), so the
// operation ending OK or WARNING does not mean every unit is gone.
func (a *Access) EliminationAction(ctx context.Context, unitIDs []string, date string) (string, error) {
	return a.eliminate(ctx, "action", unitIDs, date)
}

// eliminate sends VITAM's EliminationRequestBody: a BATCH_PROCESSING DSL ($roots, $query,
// $threshold; VITAM refuses $filter and $projection there) and the date. The $threshold is the
// number of ids sent: should the query ever select more units than asked, VITAM ends the
// operation KO ("Too many units found") instead of eliminating them.
func (a *Access) eliminate(ctx context.Context, kind string, unitIDs []string, date string) (string, error) {
	what := "VITAM elimination " + kind
	if len(unitIDs) == 0 || len(unitIDs) > maxUnits {
		return "", transfer.Permanent(fmt.Errorf("%s: want 1 to %d unit ids, got %d", what, maxUnits, len(unitIDs)))
	}
	for _, id := range unitIDs {
		if !headerValue.MatchString(id) {
			return "", transfer.Permanent(fmt.Errorf("%s: unit id %q is not a VITAM SystemId", what, id))
		}
	}
	// VITAM reads the date with Java's LocalDate.parse: ISO YYYY-MM-DD, nothing else.
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", transfer.Permanent(fmt.Errorf("%s: date %q: want YYYY-MM-DD, the date at which VITAM decides whether a rule has ended", what, date))
	}
	type batchDSL struct {
		Roots     []string `json:"$roots"`
		Query     []any    `json:"$query"`
		Threshold int      `json:"$threshold"`
	}
	body, _ := json.Marshal(struct {
		DSL  batchDSL `json:"dslRequest"`
		Date string   `json:"date"`
	}{batchDSL{[]string{}, []any{map[string]any{"$in": map[string][]string{"#id": unitIDs}}}, len(unitIDs)}, date})
	resp, rid, err := a.do(ctx, http.MethodPost, "/access-external/v1/elimination/"+kind, body, "application/json", false)
	if err != nil {
		return "", err
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	// VITAM's Java resource answers 202 (its RAML says 200): both are taken.
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return "", a.refused("elimination "+kind, resp, rid, reply)
	}
	op := rid // for an asynchronous operation, VITAM's request id is the operation id
	if op == "" {
		return "", transfer.Permanent(fmt.Errorf("%s at %s: %s without X-Request-Id", what, a.t.admin, resp.Status))
	}
	state, status, err := a.wait(ctx, op, "the elimination "+kind, "look the operation up in VITAM's logbook before asking again")
	if err != nil {
		return op, transfer.Permanent(fmt.Errorf("%s operation %s: %w", what, op, err))
	}
	if status != "OK" && status != "WARNING" {
		return op, transfer.Permanent(fmt.Errorf("%s operation %s ended %s/%s: its logbook says why (GET /access-external/v1/logbookoperations/%s)", what, op, state, status, op))
	}
	return op, nil
}

// EliminationOutcome is one line of an elimination action's report: a unit or an object group
// and what VITAM did with it.
type EliminationOutcome struct {
	ID   string
	Type string // "Unit" or "ObjectGroup"
	// Status: DELETED; for a unit spared GLOBAL_STATUS_KEEP, GLOBAL_STATUS_CONFLICT or
	// NON_DESTROYABLE_HAS_CHILD_UNITS; for a group kept by another unit PARTIAL_DETACHMENT.
	Status      string
	ObjectGroup string   // a unit's object group
	Objects     []string // a deleted group's binary objects
}

// EliminationReport reads the report of a finished elimination action: GET
// /admin-external/v1/batchreport/{operation}, JSON Lines whose first three lines are the
// operation, its summary and its context, then one line per unit and per object group.
func (a *Access) EliminationReport(ctx context.Context, op string) ([]EliminationOutcome, error) {
	if !headerValue.MatchString(op) {
		return nil, transfer.Permanent(fmt.Errorf("VITAM elimination report: operation id %q is not a VITAM operation id", op))
	}
	resp, rid, err := a.do(ctx, http.MethodGet, "/admin-external/v1/batchreport/"+url.PathEscape(op), nil, "application/octet-stream", false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxSearchReply+1))
	if err != nil {
		return nil, transfer.Network(fmt.Errorf("VITAM elimination report of operation %s (request %s): %w", op, rid, err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, a.refused("elimination report of operation "+op, resp, rid, reply)
	}
	if len(reply) > maxSearchReply {
		return nil, transfer.Permanent(fmt.Errorf("VITAM elimination report of operation %s: larger than %d bytes", op, maxSearchReply))
	}
	return parseEliminationReport(reply)
}

// parseEliminationReport reads the JSON Lines after the three header lines; a line that is not
// JSON fails the whole report rather than leaving a unit unaccounted for.
func parseEliminationReport(b []byte) ([]EliminationOutcome, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxSearchReply)
	var out []EliminationOutcome
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if n <= 3 || len(line) == 0 {
			continue
		}
		var l struct {
			ID     string `json:"id"`
			Params struct {
				Type          string   `json:"type"`
				Status        string   `json:"status"`
				ObjectGroupID string   `json:"objectGroupId"`
				ObjectIDs     []string `json:"objectIds"`
			} `json:"params"`
		}
		if err := json.Unmarshal(line, &l); err != nil || l.ID == "" {
			return nil, transfer.Permanent(fmt.Errorf("VITAM elimination report, line %d: not an {\"id\", \"params\"} line", n))
		}
		o := EliminationOutcome{ID: l.ID, Type: l.Params.Type, Status: l.Params.Status, ObjectGroup: l.Params.ObjectGroupID, Objects: l.Params.ObjectIDs}
		if o.Type == "" {
			o.Type = "Unit" // VITAM writes no type on the lines of units it spared
		}
		out = append(out, o)
	}
	if err := sc.Err(); err != nil {
		return nil, transfer.Permanent(fmt.Errorf("VITAM elimination report: %w", err))
	}
	return out, nil
}
