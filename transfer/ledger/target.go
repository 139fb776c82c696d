package ledger

import (
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// NormalizeTarget is the one spelling of a target URL that the ledger records, so that a target
// written differently on another day (a relative path, a trailing slash, parameters in another
// order) is still the same target:
//
//   - dir://PATH: the path made absolute (against the current folder) and cleaned;
//   - s3://BUCKET/PREFIX: the prefix without leading or trailing slashes (how the S3 target reads
//     it), the endpoint's scheme and host in lower case without a default port or trailing slash;
//   - others: scheme and host in lower case, no default port, no trailing slash;
//
// and the query in key order. A URL that does not parse is returned as it is.
func NormalizeTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	switch strings.ToLower(u.Scheme) {
	case "dir":
		p := u.Host + u.Path // dir://relative/path or dir:///absolute/path, as targets.Open reads it
		if p == "" {
			return raw
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return raw
		}
		return "dir://" + abs + encodeQuery(q)
	case "s3":
		if ep := q.Get("endpoint"); ep != "" {
			q.Set("endpoint", normalizeEndpoint(ep))
		}
		s := "s3://" + u.Host
		if p := strings.Trim(u.Path, "/"); p != "" {
			s += "/" + p
		}
		return s + encodeQuery(q)
	default:
		if u.Opaque != "" || u.Host == "" {
			return raw
		}
		return normalizeEndpoint((&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()) + encodeQuery(q)
	}
}

// targetKey is what two spellings of one target have in common: NormalizeTarget without the
// parameters that do not change where SIPs are (an S3 region or addressing style, VITAM's polling
// and contracts).
func targetKey(raw string) string {
	n := NormalizeTarget(raw)
	base, query, _ := strings.Cut(n, "?")
	u, err := url.Parse(n)
	if err != nil || query == "" {
		return n
	}
	keep := map[string]bool{}
	switch u.Scheme {
	case "s3":
		keep["endpoint"] = true
	case "vitam+https":
		keep["tenant"] = true
	}
	q := u.Query()
	for k := range q {
		if !keep[k] {
			q.Del(k)
		}
	}
	return base + encodeQuery(q)
}

func normalizeEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(u.Host); err == nil && (u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" || u.Scheme == "vitam+https" && port == "443") {
		u.Host = h
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// encodeQuery is "?" and q in key order, with ':' and '/' left readable (as transfer.Redact
// writes it), or "" for no parameters.
func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + strings.NewReplacer("%3A", ":", "%2F", "/").Replace(q.Encode())
}
