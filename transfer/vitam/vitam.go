// Package vitam is the transfer target for VITAM's ingest-external API:
//
//	vitam+https://ingest.example.org:8443?tenant=0&admin=https://access.example.org:8444&application-id=versement
//
// It authenticates with a client certificate (mutual TLS), whose files are named by environment
// variables, never by the URL or flags:
//
//	VERSEMENT_VITAM_CERT  PEM client certificate registered in VITAM's security referential
//	VERSEMENT_VITAM_KEY   its PEM private key
//	VERSEMENT_VITAM_CA    PEM bundle of the CAs that signed VITAM's server certificates (optional:
//	                      the system roots otherwise)
//
// One Put = POST /ingest-external/v1/ingests (202 + X-Request-Id, the operation id), then HEAD
// /admin-external/v1/operations/{id} on access-external every PollInterval until 200
// (COMPLETED), then GET the ArchiveTransferReply, parsed leniently (VITAM's KO replies are not
// XSD-valid). The receipt carries the operation id and the ATR's ReplyCode; a KO or FATAL is an
// error wrapping transfer.ErrRejected. ingest-external and access-external are two services:
// without admin=, a URL on VITAM's default ingest port 8443 polls the same host on 8444, and any
// other port must name admin=.
//
// VITAM has no idempotent ingest. Only a failure VITAM itself marks as not started (its own
// 500/503 with COMPLETED/FATAL headers) is retried; once the SIP may have reached VITAM (a
// proxy's 502/504, a connection cut during the upload) the receipt's operation is
// OperationUnknown, so that the ledger records the SIP as sent with an unknown outcome and no
// later run sends it again before someone has looked in VITAM. A process paused on a FATAL step
// needs VITAM's administrator and is reported so; an operation VITAM has purged (it answers 500
// for it) is settled by its ATR, which stays downloadable.
package vitam

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/versement/versement/transfer"
)

// headerValue is what versement lets through into X-Application-Id and X-Access-Contract-Id:
// VITAM's sanity filter answers 412 for markup and unprintable characters, and contract
// identifiers use no more than these.
var headerValue = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// OperationUnknown is the operation of a receipt whose upload may have reached VITAM without an
// answer (a proxy's 502/504, a connection cut): the ledger records the SIP as pending under it, so
// that it is not sent again until someone has looked for it in VITAM.
const OperationUnknown = "outcome-unknown"

// Environment variables naming the TLS files.
const (
	EnvCert = "VERSEMENT_VITAM_CERT"
	EnvKey  = "VERSEMENT_VITAM_KEY"
	EnvCA   = "VERSEMENT_VITAM_CA"
)

// Defaults: VITAM's doc asks for polling "no more often than once a minute".
const (
	DefaultPollInterval = time.Minute
	DefaultPollTimeout  = 6 * time.Hour
	maxATR              = 64 << 20
)

// Target submits SIPs to one VITAM tenant.
type Target struct {
	ingest, admin string // https://host:port
	tenant        int
	appID         string
	contract      string // X-Access-Contract-Id for the ATR download, if the deployment needs one
	serverName    string // the name VITAM's certificates carry, when it is not the URL's host
	blankTest     bool
	poll, timeout time.Duration
	client        *http.Client
	url           string
	sleep         func(context.Context, time.Duration) error
}

// Options tune a target beyond what its URL says; the zero value is usable. The URL's
// parameters (poll=, timeout=, application-id=) win over these defaults.
type Options struct {
	// BlankTest sends with X-Context-Id BLANK_TEST: VITAM checks the SIP and stores nothing
	// (versement's dry run).
	BlankTest bool
	// PollInterval between status requests (default DefaultPollInterval: VITAM asks for no less
	// than a minute); PollTimeout bounds the wait for one operation (default DefaultPollTimeout).
	PollInterval time.Duration
	PollTimeout  time.Duration
	// ApplicationID is sent as X-Application-Id (default "versement").
	ApplicationID string
}

// Config is what a vitam+https:// URL says.
type Config struct {
	Ingest, Admin  string // https://host:port of ingest-external and of access-external
	Tenant         int
	ApplicationID  string // application-id=; empty: Options.ApplicationID, else "versement"
	AccessContract string // access-contract=, sent on the ATR download
	ServerName     string // server-name=: the DNS name VITAM's certificates carry
	PollInterval   time.Duration
	PollTimeout    time.Duration
	url            string // the URL without secrets, parameters in key order
}

// String is the URL the configuration was read from, without secrets (for a Config built by
// hand: one written from its fields).
func (c Config) String() string {
	if c.url != "" {
		return c.url
	}
	q := url.Values{"tenant": {strconv.Itoa(c.Tenant)}}
	for k, v := range map[string]string{"admin": c.Admin, "application-id": c.ApplicationID, "access-contract": c.AccessContract, "server-name": c.ServerName} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, d := range map[string]time.Duration{"poll": c.PollInterval, "timeout": c.PollTimeout} {
		if d > 0 {
			q.Set(k, d.String())
		}
	}
	return transfer.Redact("vitam+https://" + strings.TrimPrefix(c.Ingest, "https://") + "?" + q.Encode())
}

// Open builds the target from its URL (ParseURL) and the TLS files named by the environment
// (TLSConfigFromEnv). The URL is read first, so that a mistake in it is what the user reads.
func Open(ctx context.Context, raw string, opts Options) (*Target, error) {
	c, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := TLSConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return NewTarget(c, opts, tlsCfg)
}

// Check checks a vitam+https:// URL as Open does, reading no certificate.
func Check(raw string) error {
	_, err := ParseURL(raw)
	return err
}

// TLSConfigFromEnv loads the client certificate, key and CA bundle named by the environment.
func TLSConfigFromEnv() (*tls.Config, error) {
	certFile, keyFile := os.Getenv(EnvCert), os.Getenv(EnvKey)
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("VITAM target: set %s and %s to the PEM files of the client certificate and its key", EnvCert, EnvKey)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// The error of LoadX509KeyPair names files and formats, never key material.
		return nil, fmt.Errorf("VITAM target: client certificate %s / key %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile := os.Getenv(EnvCA); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("VITAM target: %s: %w", EnvCA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("VITAM target: %s=%s holds no PEM certificate", EnvCA, caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// New builds the target with an explicit TLS configuration (tests; callers with their own PKI).
func New(raw string, opts Options, tlsCfg *tls.Config) (*Target, error) {
	c, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return NewTarget(c, opts, tlsCfg)
}

// ParseURL reads a vitam+https:// URL: tenant (required), admin, application-id,
// access-contract, server-name, poll, timeout. It reads nothing else.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "vitam+https" || u.Host == "" {
		return Config{}, fmt.Errorf("VITAM target %q: want vitam+https://host:port?tenant=N", transfer.Redact(raw))
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("VITAM target %s: no credentials in the URL: VITAM authenticates the client certificate (%s, %s)", transfer.Redact(raw), EnvCert, EnvKey)
	}
	q := u.Query()
	c := Config{Ingest: "https://" + u.Host}
	for k := range q {
		switch k {
		case "tenant", "admin", "application-id", "access-contract", "poll", "timeout", "server-name":
		default:
			return Config{}, fmt.Errorf("VITAM target %s: unknown parameter %q (known: tenant, admin, application-id, access-contract, poll, timeout, server-name)", transfer.Redact(raw), k)
		}
	}
	if c.Tenant, err = strconv.Atoi(q.Get("tenant")); err != nil || c.Tenant < 0 {
		return Config{}, fmt.Errorf("VITAM target %s: tenant=%q: want a tenant number, e.g. ?tenant=0", transfer.Redact(raw), q.Get("tenant"))
	}
	if a := q.Get("admin"); a != "" {
		au, err := url.Parse(a)
		if err != nil || au.Scheme != "https" || au.Host == "" {
			return Config{}, fmt.Errorf("VITAM target %s: admin=%q: want https://host:port of access-external", transfer.Redact(raw), a)
		}
		c.Admin = "https://" + au.Host
	} else if u.Port() == "8443" {
		// VITAM's default deployment: ingest-external on 8443, access-external (which serves
		// /admin-external) on 8444 of the same host.
		c.Admin = "https://" + net.JoinHostPort(u.Hostname(), "8444")
	} else {
		return Config{}, fmt.Errorf("VITAM target %s: add admin=https://HOST:PORT of access-external: VITAM answers operation status there (/admin-external, port 8444 by default), not on ingest-external", transfer.Redact(raw))
	}
	c.ApplicationID, c.AccessContract = q.Get("application-id"), q.Get("access-contract")
	for _, kv := range [][2]string{{"access-contract", c.AccessContract}, {"application-id", c.ApplicationID}} {
		if v := kv[1]; v != "" && !headerValue.MatchString(v) {
			return Config{}, fmt.Errorf("VITAM target %s: %s=%q: VITAM refuses header values with other characters than A-Z a-z 0-9 . _ : - (412 Precondition Failed), at most 128", transfer.Redact(raw), kv[0], v)
		}
	}
	if v := q.Get("server-name"); v != "" {
		if strings.ContainsAny(v, "/:@ ") {
			return Config{}, fmt.Errorf("VITAM target %s: server-name=%q: want the DNS name VITAM's certificates carry", transfer.Redact(raw), v)
		}
		c.ServerName = v
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"poll", &c.PollInterval}, {"timeout", &c.PollTimeout}} {
		if v := q.Get(p.name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("VITAM target %s: %s=%q: want a duration such as 60s", transfer.Redact(raw), p.name, v)
			}
			*p.dst = d
		}
	}
	u.RawQuery = q.Encode()
	c.url = transfer.Redact(u.String())
	return c, nil
}

// NewTarget builds the target from its configuration, opts for what the URL leaves unsaid, and
// the TLS configuration holding the client certificate.
func NewTarget(c Config, opts Options, tlsCfg *tls.Config) (*Target, error) {
	t := &Target{
		ingest: c.Ingest, admin: c.Admin, tenant: c.Tenant, appID: c.ApplicationID, contract: c.AccessContract,
		serverName: c.ServerName, blankTest: opts.BlankTest, poll: c.PollInterval, timeout: c.PollTimeout,
		url: c.String(), sleep: transfer.Sleep,
	}
	if t.appID == "" {
		t.appID = opts.ApplicationID
		if t.appID != "" && !headerValue.MatchString(t.appID) {
			return nil, fmt.Errorf("VITAM target %s: application id %q: VITAM refuses header values with other characters than A-Z a-z 0-9 . _ : - (412 Precondition Failed), at most 128", c, t.appID)
		}
	}
	if t.appID == "" {
		t.appID = "versement"
	}
	if t.poll <= 0 {
		t.poll = opts.PollInterval
	}
	if t.poll <= 0 {
		t.poll = DefaultPollInterval
	}
	if t.timeout <= 0 {
		t.timeout = opts.PollTimeout
	}
	if t.timeout <= 0 {
		t.timeout = DefaultPollTimeout
	}
	if c.ServerName != "" {
		tlsCfg = tlsCfg.Clone()
		tlsCfg.ServerName = c.ServerName
	}
	tr := &http.Transport{
		TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 10 * time.Minute, // VITAM answers the POST once it has stored the SIP
		ExpectContinueTimeout: 5 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	t.client = &http.Client{Transport: tr}
	return t, nil
}

func (t *Target) String() string { return t.url }

// Close drops idle connections.
func (t *Target) Close() error {
	t.client.CloseIdleConnections()
	return nil
}

// Stat is not offered by ingest-external: the ATR is VITAM's receipt.
func (t *Target) Stat(context.Context, string) (transfer.Object, error) {
	return transfer.Object{}, fmt.Errorf("VITAM: stat: %w", transfer.ErrNotSupported)
}

// List is not offered by ingest-external.
func (t *Target) List(context.Context, func(transfer.Object) error) error {
	return fmt.Errorf("VITAM: list: %w", transfer.ErrNotSupported)
}

func (t *Target) headers(h http.Header) {
	h.Set("X-Tenant-Id", strconv.Itoa(t.tenant))
	h.Set("X-Application-Id", t.appID)
}

// Put submits the SIP, waits for the operation to end and fetches the ATR.
func (t *Target) Put(ctx context.Context, sip transfer.SIP) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	rcpt := transfer.Receipt{Target: t.url, Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256}
	op, err := t.submit(ctx, sip)
	if errors.Is(err, errOutcomeUnknown) {
		rcpt.Operation = OperationUnknown
		rcpt.Time = time.Now().UTC()
		return rcpt, err
	}
	if err != nil {
		return rcpt, err
	}
	return t.finish(ctx, sip, rcpt, op)
}

// errOutcomeUnknown marks an upload that may have reached VITAM without an answer.
var errOutcomeUnknown = errors.New("outcome unknown")

// Resume waits for the outcome of an operation started by an earlier Put (recorded as pending),
// without sending the SIP again.
func (t *Target) Resume(ctx context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	rcpt := transfer.Receipt{Target: t.url, Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256}
	if op == OperationUnknown {
		rcpt.Operation = op
		return rcpt, transfer.Permanent(fmt.Errorf("SIP %s (message %q) was sent to VITAM at %s but no answer came back: look for an ingest operation of that message (application %q) in VITAM before anything is sent again; versement will not send it twice",
			sip.Name, sip.MessageID, t.ingest, t.appID))
	}
	return t.finish(ctx, sip, rcpt, op)
}

func (t *Target) finish(ctx context.Context, sip transfer.SIP, rcpt transfer.Receipt, op string) (transfer.Receipt, error) {
	rcpt.Operation = op
	rcpt.Location = t.admin + "/admin-external/v1/operations/" + op
	state, status, atr, err := t.wait(ctx, op)
	if err != nil {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s for SIP %s: %w", op, sip.Name, err))
	}
	if atr == nil {
		if atr, err = t.fetchATR(ctx, op); err != nil {
			return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s for SIP %s ended %s/%s, but its ATR could not be fetched: %w", op, sip.Name, state, status, err))
		}
	}
	rcpt.ATR = atr
	rcpt.Time = time.Now().UTC()
	reply, err := ParseATR(bytes.NewReader(atr))
	if err != nil {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s for SIP %s: ATR: %w", op, sip.Name, err))
	}
	rcpt.ReplyCode = reply.ReplyCode
	if reply.MessageIdentifier != "" && reply.MessageIdentifier != op {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s: the ATR is for operation %s", op, reply.MessageIdentifier))
	}
	if sip.MessageID != "" && reply.MessageRequestIdentifier != "" && reply.MessageRequestIdentifier != sip.MessageID {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s: the ATR answers message %q, the SIP is %q", op, reply.MessageRequestIdentifier, sip.MessageID))
	}
	if !reply.Accepted() {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s: SIP %s %w: ReplyCode %s%s", op, sip.Name, transfer.ErrRejected, reply.ReplyCode, reply.Why()))
	}
	return rcpt, nil
}

// submit POSTs the SIP and returns the operation id.
func (t *Target) submit(ctx context.Context, sip transfer.SIP) (string, error) {
	f, err := os.Open(sip.Path)
	if err != nil {
		return "", transfer.Permanent(err)
	}
	defer f.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.ingest+"/ingest-external/v1/ingests", f)
	if err != nil {
		return "", transfer.Permanent(err)
	}
	req.ContentLength = sip.Size
	t.headers(req.Header)
	req.Header.Set("X-Action", "RESUME")
	ctxID := "DEFAULT_WORKFLOW"
	if t.blankTest {
		ctxID = "BLANK_TEST"
	}
	req.Header.Set("X-Context-Id", ctxID)
	if d := sip.ManifestDigest; d.Value != "" {
		req.Header.Set("X-Manifest-Digest-Algo", d.Algo)
		req.Header.Set("X-Manifest-Digest-Value", strings.ToLower(d.Value))
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Expect", "100-continue") // as VITAM's client: a refusal costs no upload
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return "", transfer.Transient(fmt.Errorf("VITAM %s: %w", t.ingest, err))
		}
		if msg := tlsProblem(err, t.serverName); msg != "" {
			return "", transfer.Permanent(fmt.Errorf("VITAM %s: %s: %w", t.ingest, msg, err))
		}
		return "", transfer.Permanent(fmt.Errorf("VITAM %s: SIP %s: %w: the connection failed after the SIP may have been received (look for operations of application %q before resending): %v", t.ingest, sip.Name, errOutcomeUnknown, t.appID, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	op := resp.Header.Get("X-Request-Id")
	state, status := resp.Header.Get("X-Global-Execution-State"), resp.Header.Get("X-Global-Execution-Status")
	switch {
	case resp.StatusCode == http.StatusAccepted && op != "":
		return op, nil
	case resp.StatusCode == http.StatusAccepted:
		return "", transfer.Permanent(fmt.Errorf("VITAM %s: SIP %s: %w: 202 without X-Request-Id", t.ingest, sip.Name, errOutcomeUnknown))
	case resp.StatusCode >= 500 && op != "" && state == "COMPLETED" && status == "FATAL":
		// VITAM's own early failure: the workflow never started, nothing was ingested.
		return "", transfer.Transient(fmt.Errorf("VITAM %s: %s before the ingest started (request %s, %s/%s)%s", t.ingest, resp.Status, op, state, status, vitamMessage(body)))
	case resp.StatusCode >= 500:
		// Not VITAM's own answer (a proxy's 502/504): the SIP may have reached VITAM.
		return "", transfer.Permanent(fmt.Errorf("VITAM %s: SIP %s: %w: %s from something in front of VITAM, after the SIP may have reached it (look for an ingest of message %q by application %q in VITAM before resending)%s",
			t.ingest, sip.Name, errOutcomeUnknown, resp.Status, sip.MessageID, t.appID, vitamMessage(body)))
	default:
		return "", transfer.Permanent(fmt.Errorf("VITAM %s refused SIP %s: %s%s", t.ingest, sip.Name, resp.Status, vitamMessage(body)))
	}
}

// wait polls the operation until VITAM says it is completed, or PollTimeout passes. VITAM
// answers 500 for an operation its process management does not know, which is also what a
// finished operation becomes once purged (1–2 hours after it ends): then the ATR, which stays,
// settles it, and is returned.
func (t *Target) wait(ctx context.Context, op string) (state, status string, atr []byte, err error) {
	deadline := time.Now().Add(t.timeout)
	var lastErr error
	for {
		if err := t.sleep(ctx, t.poll); err != nil {
			return "", "", nil, err
		}
		state, status, done, err := t.status(ctx, op)
		if err != nil {
			var perm *transfer.PermanentError
			if errors.As(err, &perm) || ctx.Err() != nil {
				return state, status, nil, err
			}
			if errors.Is(err, errUnknownOperation) {
				if atr, aerr := t.fetchATROnce(ctx, op); aerr == nil {
					return "COMPLETED", "", atr, nil
				}
			}
			lastErr = err // a blip while polling: keep polling until the deadline
		} else if done {
			return state, status, nil, nil
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("still %s/%s after %s of polling; it may still finish: fetch its ATR later", state, status, t.timeout)
			if lastErr != nil {
				msg = fmt.Sprintf("no verdict after %s of polling (last error: %v); it may still finish: fetch its ATR later", t.timeout, lastErr)
			}
			return state, status, nil, errors.New(msg)
		}
	}
}

// errUnknownOperation: VITAM's status service does not know the operation (yet, or any more).
var errUnknownOperation = errors.New("VITAM's status service does not know the operation")

func (t *Target) status(ctx context.Context, op string) (state, status string, done bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, t.admin+"/admin-external/v1/operations/"+url.PathEscape(op), nil)
	if err != nil {
		return "", "", false, transfer.Permanent(err)
	}
	t.headers(req.Header)
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		if msg := tlsProblem(err, t.serverName); msg != "" {
			return "", "", false, transfer.Permanent(fmt.Errorf("status at %s: %s: %w", t.admin, msg, err))
		}
		return "", "", false, err
	}
	resp.Body.Close()
	state, status = resp.Header.Get("X-Global-Execution-State"), resp.Header.Get("X-Global-Execution-Status")
	switch resp.StatusCode {
	case http.StatusOK:
		return state, status, true, nil
	case http.StatusAccepted:
		if state == "PAUSE" && (status == "FATAL" || status == "KO") {
			return state, status, false, transfer.Permanent(fmt.Errorf("VITAM paused the operation on a %s step (PAUSE/%s): nothing more happens until VITAM's administrator resumes or cancels it; no ATR yet, and the SIP must not be sent again meanwhile", status, status))
		}
		return state, status, false, nil
	case http.StatusNotFound, http.StatusNoContent:
		return state, status, false, fmt.Errorf("%w (%s)", errUnknownOperation, resp.Status)
	case http.StatusInternalServerError:
		return state, status, false, fmt.Errorf("%w (%s, what VITAM answers for an unknown or purged operation)", errUnknownOperation, resp.Status)
	default:
		if resp.StatusCode >= 500 {
			return state, status, false, fmt.Errorf("status request: %s", resp.Status)
		}
		return state, status, false, transfer.Permanent(fmt.Errorf("status request to %s refused: %s", t.admin, resp.Status))
	}
}

// fetchATR downloads the reply, trying three times. VITAM's code answers 200 with the ATR, KO
// included; its RAML documents 400 for KO, which is accepted too.
func (t *Target) fetchATR(ctx context.Context, op string) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := t.sleep(ctx, t.poll); err != nil {
				return nil, err
			}
		}
		atr, err := t.fetchATROnce(ctx, op)
		var perm *transfer.PermanentError
		if err == nil || errors.As(err, &perm) || ctx.Err() != nil {
			return atr, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func (t *Target) fetchATROnce(ctx context.Context, op string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.ingest+"/ingest-external/v1/ingests/"+url.PathEscape(op)+"/archivetransferreply", nil)
	if err != nil {
		return nil, transfer.Permanent(err)
	}
	t.headers(req.Header)
	req.Header.Set("Accept", "application/octet-stream")
	if t.contract != "" {
		req.Header.Set("X-Access-Contract-Id", t.contract)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxATR+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > maxATR:
		return nil, transfer.Permanent(fmt.Errorf("ATR larger than %d bytes", maxATR))
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest:
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, transfer.Permanent(fmt.Errorf("%s with an empty ATR", resp.Status))
		}
		return body, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s%s", resp.Status, vitamMessage(body))
	default:
		return nil, transfer.Permanent(fmt.Errorf("%s%s", resp.Status, vitamMessage(body)))
	}
}

// tlsProblem says what went wrong in a TLS handshake, or "" when err is not one. A name
// mismatch is told apart from a refused client certificate: they have different fixes.
func tlsProblem(err error, serverName string) string {
	var hn x509.HostnameError
	if errors.As(err, &hn) {
		names := hn.Certificate.DNSNames
		hint := "set server-name= to the name it carries"
		if serverName != "" {
			hint = "server-name=" + serverName + " is not one of them"
		}
		return fmt.Sprintf("VITAM's certificate names %s, not %q: %s", strings.Join(names, ", "), hn.Host, hint)
	}
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	if errors.As(err, &ua) || errors.As(err, &cv) {
		return fmt.Sprintf("VITAM's certificate is not signed by a CA this client trusts (set %s to the CA bundle of VITAM's servers)", EnvCA)
	}
	var alert tls.AlertError
	var rec *tls.RecordHeaderError
	if errors.As(err, &alert) || errors.As(err, &rec) || strings.Contains(err.Error(), "remote error") || strings.Contains(err.Error(), "tls: ") {
		return fmt.Sprintf("TLS handshake refused (is the client certificate in %s registered in VITAM, and the server's CA in %s?)", EnvCert, EnvCA)
	}
	return ""
}

// maxErrorBody bounds what is read of an error reply: VITAM's envelopes are a few hundred bytes.
const maxErrorBody = 16 << 10

// vitamMessage renders an error reply for a message: VITAM's JSON envelope (VitamError) whole,
// its description being where the reason is, or the start of any other body.
func vitamMessage(b []byte) string {
	var e struct {
		HTTPCode    int    `json:"httpCode"`
		Code        string `json:"code"`
		Context     string `json:"context"`
		State       string `json:"state"`
		Message     string `json:"message"`
		Description string `json:"description"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Description != "" || e.Message != "") {
		parts := []string{}
		for _, kv := range [][2]string{{"code", e.Code}, {"context", e.Context}, {"state", e.State}, {"message", e.Message}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+" "+kv[1])
			}
		}
		out := ": VITAM says " + strconv.Quote(e.Description)
		if len(parts) > 0 {
			out += " (" + strings.Join(parts, ", ") + ")"
		}
		return out
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return ": " + s
}

// Reply is what versement reads from an ArchiveTransferReply.
type Reply struct {
	MessageIdentifier        string // VITAM operation id
	MessageRequestIdentifier string // the SIP's MessageIdentifier
	ReplyCode                string // OK, WARNING, KO, FATAL; "Test OK"… for BLANK_TEST
	GrantDate                string
	Events                   []Event // the failing or warning steps (KO/WARNING only)
}

// Event is one Operation/Event of the ATR.
type Event struct {
	TypeCode, Outcome, Detail, Message string
}

// Accepted says whether the reply accepts the SIP (Accepted(r.ReplyCode)).
func (r Reply) Accepted() bool { return Accepted(r.ReplyCode) }

// Accepted is VITAM's acceptance rule, the one place it is written: an ATR's ReplyCode OK or
// WARNING (with or without BLANK_TEST's "Test " prefix) accepts the SIP; KO, FATAL or anything
// else rejects it. The ledger records a receipt's status by it.
func Accepted(replyCode string) bool {
	c := strings.TrimPrefix(replyCode, "Test ")
	return c == "OK" || c == "WARNING"
}

// Why lists the events that are not OK, for error messages.
func (r Reply) Why() string {
	var b strings.Builder
	for _, e := range r.Events {
		if e.Outcome == "OK" {
			continue
		}
		fmt.Fprintf(&b, "; %s %s", e.TypeCode, e.Outcome)
		if e.Message != "" {
			fmt.Fprintf(&b, " (%s)", e.Message)
		}
	}
	return b.String()
}

// ParseATR reads an ArchiveTransferReply of any SEDA 2.x version without validating it: VITAM's
// own KO replies are not XSD-valid. It needs the root element and a ReplyCode.
func ParseATR(r io.Reader) (Reply, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxATR))
	dec.Strict = true
	var rep Reply
	var stack []string
	var text strings.Builder
	var ev *Event
	root := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if el.Name.Local != "ArchiveTransferReply" {
					return rep, fmt.Errorf("root element is %s, not ArchiveTransferReply", el.Name.Local)
				}
				root = true
			}
			stack = append(stack, el.Name.Local)
			text.Reset()
			if len(stack) == 3 && stack[1] == "Operation" && el.Name.Local == "Event" {
				rep.Events = append(rep.Events, Event{})
				ev = &rep.Events[len(rep.Events)-1]
			}
		case xml.CharData:
			text.Write(el)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			switch {
			case len(stack) == 2:
				switch el.Name.Local {
				case "MessageIdentifier":
					rep.MessageIdentifier = v
				case "MessageRequestIdentifier":
					rep.MessageRequestIdentifier = v
				case "ReplyCode":
					rep.ReplyCode = v
				case "GrantDate":
					rep.GrantDate = v
				}
			case len(stack) == 4 && ev != nil && stack[2] == "Event":
				switch el.Name.Local {
				case "EventTypeCode":
					ev.TypeCode = v
				case "Outcome":
					ev.Outcome = v
				case "OutcomeDetail":
					ev.Detail = v
				case "OutcomeDetailMessage":
					ev.Message = v
				}
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if !root {
		return rep, errors.New("empty document")
	}
	if rep.ReplyCode == "" {
		return rep, errors.New("no ReplyCode")
	}
	return rep, nil
}
