package vitam

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/versement/versement/transfer"
)

// Access reads archives back out of VITAM through access-external, for one tenant under one
// access contract: a unit search on a dossier's identifiers (FindUnits), then a DIP export of
// the units found (ExportDIP, DIP). It is built from the same vitam+https:// URL as the ingest
// target: access-external is the service admin= already names (it serves /admin-external and
// /access-external alike, port 8444 by default), and access-contract= is required, VITAM
// answering nothing on /access-external without a contract the certificate's context allows.
type Access struct {
	t *Target
	// MaxDIP bounds the bytes DIP reads (default DefaultMaxDIP), MaxObject those Object reads
	// (default DefaultMaxObject): both come from the network.
	MaxDIP, MaxObject int64
}

// Limits on what access-external sends back.
const (
	DefaultMaxDIP    = 16 << 30
	DefaultMaxObject = 4 << 30
	maxSearchReply   = 32 << 20
	maxUnits         = 10000 // VITAM's default $limit (GlobalDatas.LIMIT_LOAD) and a DIP's maximum
)

// ErrAccessDenied marks VITAM's refusal of the access contract (401/403): unknown to the
// certificate's context on the tenant, inactive, or not allowing the operation.
var ErrAccessDenied = errors.New("VITAM refused the access contract")

// OpenAccess builds the access client from a vitam+https:// URL and the TLS files named by the
// environment, as Open does for the ingest target.
func OpenAccess(ctx context.Context, raw string, opts Options) (*Access, error) {
	c, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	if err := needContract(c); err != nil {
		return nil, err
	}
	tlsCfg, err := TLSConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return NewAccess(c, opts, tlsCfg)
}

// NewAccess builds the access client from a parsed URL and a TLS configuration holding the
// client certificate.
func NewAccess(c Config, opts Options, tlsCfg *tls.Config) (*Access, error) {
	if err := needContract(c); err != nil {
		return nil, err
	}
	t, err := NewTarget(c, opts, tlsCfg)
	if err != nil {
		return nil, err
	}
	return &Access{t: t, MaxDIP: DefaultMaxDIP, MaxObject: DefaultMaxObject}, nil
}

func needContract(c Config) error {
	if c.AccessContract == "" {
		return fmt.Errorf("VITAM access %s: add access-contract=IDENTIFIER: VITAM's access-external answers only under an access contract (X-Access-Contract-Id) that the context of this application's certificate allows on tenant %d", c, c.Tenant)
	}
	return nil
}

func (a *Access) String() string { return a.t.url }

// Close drops idle connections.
func (a *Access) Close() error { return a.t.Close() }

// UnitQuery says which archive units to find; every field given must match (VITAM's $and).
type UnitQuery struct {
	// OriginatingSystemID is the dossier's key in the source database, as the SIP's
	// OriginatingSystemId carries it.
	OriginatingSystemID string
	// Identifiers are OriginatingAgencyArchiveUnitIdentifier values, "NAME:value" as versement
	// writes them (COD_ETU:20000001).
	Identifiers []string
	// OriginatingAgency narrows to one producer (#originating_agency, the SIP's
	// OriginatingAgencyIdentifier).
	OriginatingAgency string
	// Limit on the units returned (default 100, at most 10000).
	Limit int
}

// FoundUnit is an archive unit as access-external describes it.
type FoundUnit struct {
	SystemID            string // #id: what ExportDIP takes
	ObjectGroup         string // #object: the unit's object group, "" without objects
	Title               string
	OriginatingSystemID []string
	Identifiers         []string // OriginatingAgencyArchiveUnitIdentifier
	OriginatingAgency   string   // #originating_agency
	Operation           string   // #opi: the ingest operation
	StartDate, EndDate  string
	// Rules are the unit's own management rules by category (AppraisalRule, AccessRule…), with
	// the end dates VITAM computed from its rule referential.
	Rules map[string]RuleCategory
}

// RuleCategory is one category of #management.
type RuleCategory struct {
	Rules       []Rule
	FinalAction string
}

// Rule is one rule of a category; EndDate is VITAM's computation.
type Rule struct {
	Rule, StartDate, EndDate string
}

// unitFields are the fields FindUnits asks for ($projection).
var unitFields = []string{"#id", "#object", "#management", "#originating_agency", "#opi", "Title",
	"OriginatingSystemId", "OriginatingAgencyArchiveUnitIdentifier", "StartDate", "EndDate"}

// dsl builds the SELECT_MULTIPLE query: exact matches ($eq) on keyword fields, which VITAM's
// ontology declares OriginatingSystemId and OriginatingAgencyArchiveUnitIdentifier to be.
func (q UnitQuery) dsl() ([]byte, error) {
	var conds []any
	eq := func(field, v string) error {
		if v == "" || len(v) > 256 {
			return fmt.Errorf("VITAM search: %s: want a value of 1 to 256 characters", field)
		}
		conds = append(conds, map[string]any{"$eq": map[string]string{field: v}})
		return nil
	}
	if q.OriginatingSystemID != "" {
		eq("OriginatingSystemId", q.OriginatingSystemID)
	}
	for _, id := range q.Identifiers {
		if err := eq("OriginatingAgencyArchiveUnitIdentifier", id); err != nil {
			return nil, err
		}
	}
	if len(conds) == 0 {
		return nil, errors.New("VITAM search: give an OriginatingSystemId or an identifier: VITAM would return every unit the contract shows")
	}
	if q.OriginatingAgency != "" {
		if err := eq("#originating_agency", q.OriginatingAgency); err != nil {
			return nil, err
		}
	}
	query := conds[0]
	if len(conds) > 1 {
		query = map[string]any{"$and": conds}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > maxUnits {
		return nil, fmt.Errorf("VITAM search: limit %d: at most %d", limit, maxUnits)
	}
	fields := map[string]int{}
	for _, f := range unitFields {
		fields[f] = 1
	}
	return json.Marshal(struct {
		Roots      []string       `json:"$roots"`
		Query      []any          `json:"$query"`
		Filter     map[string]int `json:"$filter"`
		Projection map[string]any `json:"$projection"`
	}{[]string{}, []any{query}, map[string]int{"$limit": limit}, map[string]any{"$fields": fields}})
}

// FindUnits searches the units matching q among those the access contract shows. None found is
// an error wrapping transfer.ErrNotExist: VITAM does not say whether the unit is absent or
// outside the contract, and neither can the message. The query's values stay out of errors
// (they identify persons).
func (a *Access) FindUnits(ctx context.Context, q UnitQuery) ([]FoundUnit, error) {
	body, err := q.dsl()
	if err != nil {
		return nil, transfer.Permanent(err)
	}
	// POST + X-Http-Method-Override: GET, which VITAM documents for its external APIs: a GET
	// with a body, as its Java client sends, does not pass every proxy. Without the override a
	// POST on /units is a mass update.
	resp, rid, err := a.do(ctx, http.MethodPost, "/access-external/v1/units", body, "application/json", true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxSearchReply+1))
	if err != nil {
		return nil, transfer.Network(fmt.Errorf("VITAM search at %s (request %s): %w", a.t.admin, rid, err))
	}
	if len(reply) > maxSearchReply {
		return nil, transfer.Permanent(fmt.Errorf("VITAM search at %s (request %s): reply larger than %d bytes", a.t.admin, rid, maxSearchReply))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, a.refused("search", resp, rid, reply)
	}
	var env struct {
		Hits    *struct{ Total int } `json:"$hits"`
		Results []unitJSON           `json:"$results"`
	}
	if err := json.Unmarshal(reply, &env); err != nil || env.Hits == nil {
		return nil, transfer.Permanent(fmt.Errorf("VITAM search at %s (request %s): not VITAM's RequestResponseOK envelope ($hits, $results)%s", a.t.admin, rid, vitamMessage(reply)))
	}
	if len(env.Results) == 0 {
		return nil, transfer.Permanent(fmt.Errorf("VITAM tenant %d, access contract %q: %w: no archive unit matches (VITAM shows only the units of the originating agencies the contract allows) (request %s)", a.t.tenant, a.t.contract, transfer.ErrNotExist, rid))
	}
	out := make([]FoundUnit, 0, len(env.Results))
	for _, u := range env.Results {
		if u.ID == "" {
			return nil, transfer.Permanent(fmt.Errorf("VITAM search at %s (request %s): a unit without #id", a.t.admin, rid))
		}
		out = append(out, u.found())
	}
	return out, nil
}

// unitJSON is a unit of $results, lenient on shapes VITAM's versions differ in.
type unitJSON struct {
	ID          string                     `json:"#id"`
	Object      json.RawMessage            `json:"#object"`
	Management  map[string]json.RawMessage `json:"#management"`
	Agency      string                     `json:"#originating_agency"`
	Opi         string                     `json:"#opi"`
	Title       string                     `json:"Title"`
	SystemIDs   stringList                 `json:"OriginatingSystemId"`
	Identifiers stringList                 `json:"OriginatingAgencyArchiveUnitIdentifier"`
	StartDate   string                     `json:"StartDate"`
	EndDate     string                     `json:"EndDate"`
}

func (u unitJSON) found() FoundUnit {
	f := FoundUnit{SystemID: u.ID, Title: u.Title, OriginatingSystemID: u.SystemIDs, Identifiers: u.Identifiers,
		OriginatingAgency: u.Agency, Operation: u.Opi, StartDate: u.StartDate, EndDate: u.EndDate}
	// Real data has the object group id as a string; old RAML examples show an object.
	json.Unmarshal(u.Object, &f.ObjectGroup)
	for cat, raw := range u.Management {
		var c struct {
			Rules       []Rule `json:"Rules"`
			FinalAction string `json:"FinalAction"`
		}
		if json.Unmarshal(raw, &c) != nil {
			continue // not a rule category (NeedAuthorization is a boolean)
		}
		if f.Rules == nil {
			f.Rules = map[string]RuleCategory{}
		}
		f.Rules[cat] = RuleCategory{Rules: c.Rules, FinalAction: c.FinalAction}
	}
	return f
}

// stringList reads VITAM's keyword arrays, and a lone string.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// ExportDIP asks VITAM for a DIP of the units (their SystemIds), waits for the export operation
// as Put waits for an ingest (same interval and timeout), and returns the operation id, which
// DIP downloads. After a timeout the operation id comes back with the error: the DIP may still
// be built, and DIP can fetch it later.
func (a *Access) ExportDIP(ctx context.Context, unitIDs []string) (string, error) {
	if len(unitIDs) == 0 || len(unitIDs) > maxUnits {
		return "", transfer.Permanent(fmt.Errorf("VITAM DIP export: want 1 to %d unit ids, got %d", maxUnits, len(unitIDs)))
	}
	for _, id := range unitIDs {
		if !headerValue.MatchString(id) {
			return "", transfer.Permanent(fmt.Errorf("VITAM DIP export: unit id %q is not a VITAM SystemId", id))
		}
	}
	body, _ := json.Marshal(struct {
		Roots      []string       `json:"$roots"`
		Query      []any          `json:"$query"`
		Projection map[string]any `json:"$projection"`
	}{[]string{}, []any{map[string]any{"$in": map[string][]string{"#id": unitIDs}}}, map[string]any{}})
	resp, rid, err := a.do(ctx, http.MethodPost, "/access-external/v1/dipexport", body, "application/json", false)
	if err != nil {
		return "", err
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", a.refused("DIP export", resp, rid, reply)
	}
	op := rid // for an asynchronous operation, VITAM's request id is the operation id
	if op == "" {
		return "", transfer.Permanent(fmt.Errorf("VITAM DIP export at %s: 202 without X-Request-Id", a.t.admin))
	}
	state, status, err := a.wait(ctx, op, "the export", "fetch its DIP later")
	if err != nil {
		return op, transfer.Permanent(fmt.Errorf("VITAM DIP export operation %s: %w", op, err))
	}
	if status != "OK" && status != "WARNING" {
		return op, transfer.Permanent(fmt.Errorf("VITAM DIP export operation %s ended %s/%s: its logbook says why (GET /access-external/v1/logbookoperations/%s)", op, state, status, op))
	}
	return op, nil
}

// wait polls an access operation until COMPLETED. An id the status service does not know yet is
// polled again until the timeout, as a blip is. what names the operation for the person reading
// ("the export", "the elimination action"), later what to do when polling gives up.
func (a *Access) wait(ctx context.Context, op, what, later string) (state, status string, err error) {
	deadline := time.Now().Add(a.t.timeout)
	var lastErr error
	for {
		if err := a.t.sleep(ctx, a.t.poll); err != nil {
			return "", "", err
		}
		state, status, done, err := a.t.status(ctx, op)
		var perm *transfer.PermanentError
		switch {
		case err != nil && state == "PAUSE":
			return state, status, fmt.Errorf("VITAM paused %s on a %s step (PAUSE/%s): nothing more happens until VITAM's administrator resumes or cancels it", what, status, status)
		case err != nil && (errors.As(err, &perm) || ctx.Err() != nil):
			return state, status, err
		case err != nil:
			lastErr = err
		case done:
			return state, status, nil
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("still %s/%s after %s of polling; it may still finish: %s", state, status, a.t.timeout, later)
			if lastErr != nil {
				msg = fmt.Sprintf("no verdict after %s of polling (last error: %v); it may still finish: %s", a.t.timeout, lastErr, later)
			}
			return state, status, errors.New(msg)
		}
	}
}

// DIP opens the DIP zip of a finished export operation, as a stream: the caller copies it where
// it can read a zip (its central directory is at the end) and closes it. Reading more than
// MaxDIP bytes fails.
func (a *Access) DIP(ctx context.Context, op string) (io.ReadCloser, error) {
	if !headerValue.MatchString(op) {
		return nil, transfer.Permanent(fmt.Errorf("VITAM DIP: operation id %q is not a VITAM operation id", op))
	}
	resp, rid, err := a.do(ctx, http.MethodGet, "/access-external/v1/dipexport/"+url.PathEscape(op)+"/dip", nil, "application/octet-stream", false)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, transfer.Permanent(fmt.Errorf("VITAM DIP of operation %s: %w: VITAM has no DIP for it (not finished, failed, or purged) (request %s)", op, transfer.ErrNotExist, rid))
	}
	if resp.StatusCode != http.StatusOK {
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return nil, a.refused("DIP download", resp, rid, reply)
	}
	limit := a.MaxDIP
	if limit <= 0 {
		limit = DefaultMaxDIP
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, transfer.Permanent(fmt.Errorf("VITAM DIP of operation %s: %d bytes, more than the %d allowed", op, resp.ContentLength, limit))
	}
	return &cappedBody{rc: resp.Body, left: limit, what: "VITAM DIP of operation " + op, limit: limit}, nil
}

// cappedBody fails, rather than truncates, a body longer than the cap.
type cappedBody struct {
	rc          io.ReadCloser
	left, limit int64
	what        string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a zip of exactly the cap from a longer one.
		var one [1]byte
		for {
			n, err := c.rc.Read(one[:])
			if n > 0 {
				return 0, transfer.Permanent(fmt.Errorf("%s: more than the %d bytes allowed", c.what, c.limit))
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }

// do sends one access-external request with VITAM's headers: tenant, application id, access
// contract, JSON in. It returns the response and its X-Request-Id; failures to get an answer
// are classified as the ingest client's are.
func (a *Access) do(ctx context.Context, method, path string, body []byte, accept string, overrideGET bool) (*http.Response, string, error) {
	return a.doHeaders(ctx, method, path, body, accept, overrideGET, nil)
}

func (a *Access) doHeaders(ctx context.Context, method, path string, body []byte, accept string, overrideGET bool, extra map[string]string) (*http.Response, string, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.t.admin+path, rd)
	if err != nil {
		return nil, "", transfer.Permanent(err)
	}
	a.t.headers(req.Header)
	req.Header.Set("X-Access-Contract-Id", a.t.contract)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if overrideGET {
		req.Header.Set("X-Http-Method-Override", http.MethodGet)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := a.t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if msg := tlsProblem(err, a.t.serverName); msg != "" {
			return nil, "", transfer.Permanent(fmt.Errorf("VITAM access-external %s: %s: %w", a.t.admin, msg, err))
		}
		return nil, "", transfer.Network(fmt.Errorf("VITAM access-external %s: %w", a.t.admin, err))
	}
	return resp, resp.Header.Get("X-Request-Id"), nil
}

// refused classifies an error answer: the contract refused (401/403, ErrAccessDenied), not found
// (404), VITAM's own 5xx worth another try, the rest permanent. VITAM's envelope is kept whole.
func (a *Access) refused(what string, resp *http.Response, rid string, body []byte) error {
	where := fmt.Sprintf("VITAM %s at %s", what, a.t.admin)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return transfer.Permanent(fmt.Errorf("%s: %w %q on tenant %d (%s, request %s)%s: check that the contract exists, is ACTIVE and is in the context of this application's certificate",
			where, ErrAccessDenied, a.t.contract, a.t.tenant, resp.Status, rid, vitamMessage(body)))
	case resp.StatusCode == http.StatusNotFound:
		return transfer.Permanent(fmt.Errorf("%s: %w (%s, request %s)%s", where, transfer.ErrNotExist, resp.Status, rid, vitamMessage(body)))
	case resp.StatusCode >= 500:
		return transfer.Transient(fmt.Errorf("%s: %s (request %s)%s", where, resp.Status, rid, vitamMessage(body)))
	default:
		return transfer.Permanent(fmt.Errorf("%s refused the request: %s (request %s)%s", where, resp.Status, rid, vitamMessage(body)))
	}
}
