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
// /admin-external/v1/operations/{id} every PollInterval until 200 (COMPLETED), then GET the
// ArchiveTransferReply, parsed leniently (VITAM's KO replies are not XSD-valid). The receipt
// carries the operation id and the ATR's ReplyCode; a KO or FATAL is an error wrapping
// transfer.ErrRejected. VITAM has no idempotent ingest: once the SIP may have reached the server,
// every failure is permanent (the retry decorator must not send it twice); the error names the
// operation id, or says the outcome is unknown.
package vitam

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/versement/versement/transfer"
)

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
	blankTest     bool
	poll, timeout time.Duration
	client        *http.Client
	url           string
	sleep         func(context.Context, time.Duration) error
}

// Open builds the target from its URL and the TLS files named by the environment.
func Open(ctx context.Context, raw string, opts transfer.Options) (*Target, error) {
	tlsCfg, err := TLSConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return New(raw, opts, tlsCfg)
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
func New(raw string, opts transfer.Options, tlsCfg *tls.Config) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "vitam+https" || u.Host == "" {
		return nil, fmt.Errorf("VITAM target %q: want vitam+https://host:port?tenant=N", transfer.Redact(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("VITAM target %s: no credentials in the URL: VITAM authenticates the client certificate (%s, %s)", transfer.Redact(raw), EnvCert, EnvKey)
	}
	q := u.Query()
	t := &Target{
		ingest: "https://" + u.Host, admin: "https://" + u.Host, appID: opts.ApplicationID,
		blankTest: opts.DryRun, poll: opts.PollInterval, timeout: opts.PollTimeout, sleep: transfer.Sleep,
	}
	for k := range q {
		switch k {
		case "tenant", "admin", "application-id", "access-contract", "poll", "timeout":
		default:
			return nil, fmt.Errorf("VITAM target %s: unknown parameter %q (known: tenant, admin, application-id, access-contract, poll, timeout)", transfer.Redact(raw), k)
		}
	}
	if t.tenant, err = strconv.Atoi(q.Get("tenant")); err != nil || t.tenant < 0 {
		return nil, fmt.Errorf("VITAM target %s: tenant=%q: want a tenant number, e.g. ?tenant=0", transfer.Redact(raw), q.Get("tenant"))
	}
	if a := q.Get("admin"); a != "" {
		au, err := url.Parse(a)
		if err != nil || au.Scheme != "https" || au.Host == "" {
			return nil, fmt.Errorf("VITAM target %s: admin=%q: want https://host:port of access-external", transfer.Redact(raw), a)
		}
		t.admin = "https://" + au.Host
	}
	if v := q.Get("application-id"); v != "" {
		t.appID = v
	}
	if t.appID == "" {
		t.appID = "versement"
	}
	t.contract = q.Get("access-contract")
	for name, dst := range map[string]*time.Duration{"poll": &t.poll, "timeout": &t.timeout} {
		if v := q.Get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("VITAM target %s: %s=%q: want a duration such as 60s", transfer.Redact(raw), name, v)
			}
			*dst = d
		}
	}
	if t.poll <= 0 {
		t.poll = DefaultPollInterval
	}
	if t.timeout <= 0 {
		t.timeout = DefaultPollTimeout
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
	u.RawQuery = q.Encode()
	t.url = transfer.Redact(u.String())
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
	if err != nil {
		return rcpt, err
	}
	return t.finish(ctx, sip, rcpt, op)
}

// Resume waits for the outcome of an operation started by an earlier Put (recorded as pending),
// without sending the SIP again.
func (t *Target) Resume(ctx context.Context, sip transfer.SIP, op string) (transfer.Receipt, error) {
	if err := sip.Prepare(ctx); err != nil {
		return transfer.Receipt{}, err
	}
	rcpt := transfer.Receipt{Target: t.url, Name: sip.Name, Size: sip.Size, SHA256: sip.SHA256}
	return t.finish(ctx, sip, rcpt, op)
}

func (t *Target) finish(ctx context.Context, sip transfer.SIP, rcpt transfer.Receipt, op string) (transfer.Receipt, error) {
	rcpt.Operation = op
	rcpt.Location = t.admin + "/admin-external/v1/operations/" + op
	state, status, err := t.wait(ctx, op)
	if err != nil {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s for SIP %s: %w", op, sip.Name, err))
	}
	atr, err := t.fetchATR(ctx, op)
	if err != nil {
		return rcpt, transfer.Permanent(fmt.Errorf("VITAM operation %s for SIP %s ended %s/%s, but its ATR could not be fetched: %w", op, sip.Name, state, status, err))
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
		if tlsRefused(err) {
			return "", transfer.Permanent(fmt.Errorf("VITAM %s: TLS handshake refused (is the client certificate in %s registered, and the server's CA in %s?): %w", t.ingest, EnvCert, EnvCA, err))
		}
		return "", transfer.Permanent(fmt.Errorf("VITAM %s: SIP %s: outcome unknown, the connection failed after the SIP may have been received (look for operations of application %q before resending): %w", t.ingest, sip.Name, t.appID, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	op := resp.Header.Get("X-Request-Id")
	switch {
	case resp.StatusCode == http.StatusAccepted && op != "":
		return op, nil
	case resp.StatusCode == http.StatusAccepted:
		return "", transfer.Permanent(fmt.Errorf("VITAM %s: 202 without X-Request-Id", t.ingest))
	case resp.StatusCode >= 500:
		// VITAM's early failures (500/503 with state COMPLETED, status FATAL): nothing was ingested.
		return "", transfer.Transient(fmt.Errorf("VITAM %s: %s (operation %q, %s/%s)%s", t.ingest, resp.Status, op,
			resp.Header.Get("X-Global-Execution-State"), resp.Header.Get("X-Global-Execution-Status"), excerpt(body)))
	default:
		return "", transfer.Permanent(fmt.Errorf("VITAM %s refused SIP %s: %s%s", t.ingest, sip.Name, resp.Status, excerpt(body)))
	}
}

// wait polls the operation until VITAM says it is completed, or PollTimeout passes.
func (t *Target) wait(ctx context.Context, op string) (state, status string, err error) {
	deadline := time.Now().Add(t.timeout)
	var lastErr error
	for {
		if err := t.sleep(ctx, t.poll); err != nil {
			return "", "", err
		}
		state, status, done, err := t.status(ctx, op)
		if err != nil {
			var perm *transfer.PermanentError
			if errors.As(err, &perm) || ctx.Err() != nil {
				return "", "", err
			}
			lastErr = err // a blip while polling: keep polling until the deadline
		} else if done {
			return state, status, nil
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("still %s/%s after %s of polling; it may still finish: fetch its ATR later", state, status, t.timeout)
			if lastErr != nil {
				msg += " (last error: " + lastErr.Error() + ")"
			}
			return state, status, errors.New(msg)
		}
	}
}

func (t *Target) status(ctx context.Context, op string) (state, status string, done bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, t.admin+"/admin-external/v1/operations/"+url.PathEscape(op), nil)
	if err != nil {
		return "", "", false, transfer.Permanent(err)
	}
	t.headers(req.Header)
	resp, err := t.client.Do(req)
	if err != nil {
		return "", "", false, err
	}
	resp.Body.Close()
	state, status = resp.Header.Get("X-Global-Execution-State"), resp.Header.Get("X-Global-Execution-Status")
	switch resp.StatusCode {
	case http.StatusOK:
		return state, status, true, nil
	case http.StatusAccepted:
		return state, status, false, nil
	case http.StatusNoContent, http.StatusNotFound:
		return state, status, false, transfer.Permanent(fmt.Errorf("VITAM does not know the operation (%s)", resp.Status))
	default:
		if resp.StatusCode >= 500 {
			return state, status, false, fmt.Errorf("status request: %s", resp.Status)
		}
		return state, status, false, transfer.Permanent(fmt.Errorf("status request refused: %s", resp.Status))
	}
}

// fetchATR downloads the reply; VITAM answers 200 for OK/WARNING and 400 for KO, both with the ATR.
func (t *Target) fetchATR(ctx context.Context, op string) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := t.sleep(ctx, t.poll); err != nil {
				return nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.ingest+"/ingest-external/v1/ingests/"+url.PathEscape(op)+"/archivetransferreply", nil)
		if err != nil {
			return nil, err
		}
		t.headers(req.Header)
		req.Header.Set("Accept", "application/octet-stream")
		if t.contract != "" {
			req.Header.Set("X-Access-Contract-Id", t.contract)
		}
		resp, err := t.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxATR+1))
		resp.Body.Close()
		switch {
		case err != nil:
			lastErr = err
		case len(body) > maxATR:
			return nil, fmt.Errorf("ATR larger than %d bytes", maxATR)
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest:
			if len(bytes.TrimSpace(body)) == 0 {
				return nil, fmt.Errorf("%s with an empty ATR", resp.Status)
			}
			return body, nil
		case resp.StatusCode >= 500:
			lastErr = fmt.Errorf("%s%s", resp.Status, excerpt(body))
		default:
			return nil, fmt.Errorf("%s%s", resp.Status, excerpt(body))
		}
	}
	return nil, lastErr
}

func tlsRefused(err error) bool {
	var alert tls.AlertError
	var rec *tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &alert) || errors.As(err, &rec) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "tls: ") || strings.Contains(s, "remote error")
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 300 {
		s = s[:300] + "…"
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

// Accepted: OK or WARNING (with or without BLANK_TEST's "Test " prefix).
func (r Reply) Accepted() bool {
	c := strings.TrimPrefix(r.ReplyCode, "Test ")
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
