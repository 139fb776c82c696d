// Package redact is versement's one policy for keeping secrets out of what it shows or stores:
// messages, logs, reports, state.db and ledger lines. Every package that prints a URL, a
// connection string or an error that may quote one goes through it, so that there is one list of
// what counts as a secret and one marker for what was hidden.
//
// The policy:
//   - a URL's password is replaced by Marker and its user name kept ("postgres://apogee:xxxxx@db");
//     a user name without a password is replaced too, since tokens are often passed that way
//     ("https://TOKEN@host");
//   - the value of a query parameter whose name looks like a secret (IsSecretName) is replaced;
//   - a URL nested in a query value ("?endpoint=http://AK:SECRET@host") is redacted the same way;
//   - a string url.Parse refuses (a raw '#', '%', '/' or space in a password) is hidden from the
//     ':' after the user name to the last '@', which may hide more than the password, never less;
//   - key=value connection strings (libpq) have the values of secret-looking keys replaced;
//   - URLs whose path is the secret (chat webhooks) are shown as scheme://host/ + Marker (HostOnly).
//
// The marker is Go's own (url.URL.Redacted), so that a URL redacted by the standard library and
// one redacted here look the same.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Marker replaces every hidden secret.
const Marker = "xxxxx"

// secretWords are the parts of a parameter or key name (lower case, letters only) that say its
// value is a secret. Not "key" alone: sslkey and the like name files.
var secretWords = []string{"password", "passwd", "pwd", "secret", "token", "signature", "credential", "apikey", "accesskey", "privatekey"}

// IsSecretName says whether a query parameter or connection-string key holds a secret: a name
// that, in lower case and letters only, contains password, passwd, pwd, secret, token,
// signature, credential, apikey, accesskey or privatekey, or is key or sig. That covers pgx's
// sslpassword, X-Amz-Signature, X-Amz-Credential, api_key, access_token, an Azure SAS's sig….
func IsSecretName(k string) bool {
	lk := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, k)
	if lk == "key" || lk == "sig" {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}

// hasScheme matches the start of anything that is meant as a URL.
var hasScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// rawPassword finds the user info of a URL-form string that url.Parse refuses: from the ':'
// after the user name to the last '@' before the path.
var rawPassword = regexp.MustCompile(`(?s)^([A-Za-z][A-Za-z0-9+.-]*://[^:@/?#]*:)(.*)@`)

// misread says whether url.Parse would misread raw's user info: a ':' after the user name and a
// last '@' beyond the end of what url.Parse takes for the authority (the first '/', '?' or '#').
// "s3://ak:1?b@bucket" is user ak with password "1?b", not host ak:1 with a query;
// "s3://ak:x@?y@bucket" is password "x@?y", not "x". It cannot tell such a password from a port
// followed by an '@' in the path or the query ("https://h:1?u=https://T@a"): then it says yes, and
// more is hidden than needed.
func misread(raw string) bool {
	m := rawPassword.FindStringSubmatch(raw)
	if m == nil {
		return false
	}
	_, rest, _ := strings.Cut(raw, "://")
	authEnd := strings.IndexAny(rest, "/?#")
	lastAt := len(m[0]) - 1 - (len(raw) - len(rest))
	return authEnd >= 0 && lastAt > authEnd
}

// rawUser finds a user name without a password in a string url.Parse refuses.
var rawUser = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://)([^:@/?#]+)@`)

// kvPair finds a key=value pair of a libpq-style connection string.
var kvPair = regexp.MustCompile(`(\b[A-Za-z_]+\s*=\s*)('[^']*'|\S+)`)

// URL returns raw with its secrets replaced by Marker (see the package comment). Everything else
// is kept as written, query parameters in their order, so that the result can be matched against
// what the user typed.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || misread(raw) {
		// Refused, or misread: "s3://ak:1?b@bucket" parses as host ak:1 with a query, so the
		// text between the ':' and the last '@' is taken for a password.
		return rawURL(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Marker)
		} else if isHTTP(raw) {
			u.User = url.User(Marker)
		}
	}
	// The query and the fragment are redacted as written (a '#' or an '&' may belong to a nested
	// URL's password); the rest is rebuilt from the parsed URL.
	_, tail, hasQuery := strings.Cut(raw, "?")
	u.RawQuery, u.ForceQuery = "", false
	if hasQuery {
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "?" + query(tail)
	}
	return u.String()
}

// rawURL is URL for a string url.Parse refuses or misreads.
func rawURL(raw string) string {
	s := rawPassword.ReplaceAllString(raw, "${1}"+Marker+"@")
	if isHTTP(s) {
		s = rawUser.ReplaceAllString(s, "${1}"+Marker+"@")
	}
	if head, tail, ok := strings.Cut(s, "?"); ok {
		return head + "?" + query(tail)
	}
	return s
}

// isHTTP says whether s is an http(s) URL, where a user name without a password is
// conventionally a token (https://TOKEN@host); elsewhere (postgres://apogee@db) it is a name.
func isHTTP(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// query redacts a raw query string piece by piece, leaving the pieces that hold no secret as
// they are.
func query(raw string) string {
	if raw == "" {
		return raw
	}
	pieces := strings.Split(raw, "&")
	for i, p := range pieces {
		k, v, hasValue := strings.Cut(p, "=")
		if IsSecretName(unescape(k)) {
			pieces[i] = k + "=" + Marker
			continue
		}
		val := unescape(v)
		if !hasValue || !hasScheme.MatchString(val) {
			continue
		}
		if tail := v + "&" + strings.Join(pieces[i+1:], "&"); i+1 < len(pieces) && splitPassword(v, tail) {
			return strings.Join(append(pieces[:i:i], k+"="+rawURL(tail)), "&")
		}
		if r := URL(val); r != val {
			pieces[i] = k + "=" + queryValue.Replace(r)
		}
	}
	return strings.Join(pieces, "&")
}

// splitPassword says whether a nested URL, written v in the query and followed there by the raw
// text tail (v, '&', the rest), may have had its password cut at a raw '&': tail reads as
// user:password@ up to an '@' after v. It may say so of a URL followed by a parameter holding an
// '@' (then more is hidden than needed), never the other way round.
func splitPassword(v, tail string) bool {
	m := rawPassword.FindStringSubmatch(tail)
	return m != nil && len(m[0]) > len(v)
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// queryValue escapes what would end or change a query value, and nothing else, so that a nested
// URL stays readable.
var queryValue = strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20")

// KeyValues redacts a libpq-style "key=value key='value'" connection string: the values of
// secret-looking keys (password, sslpassword…) are replaced by Marker.
func KeyValues(s string) string {
	return kvPair.ReplaceAllStringFunc(s, func(m string) string {
		sm := kvPair.FindStringSubmatch(m)
		if !IsSecretName(strings.TrimRight(sm[1], " =\t")) {
			return m
		}
		return sm[1] + Marker
	})
}

// String redacts s whatever its form: URL when it starts with scheme://, else KeyValues.
func String(s string) string {
	if hasScheme.MatchString(s) {
		return URL(s)
	}
	return KeyValues(s)
}

// HostOnly keeps only the scheme and host of a URL whose path or query is itself the secret (chat
// webhooks): "https://hooks.example.org/" + Marker.
func HostOnly(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Hostname() + portOf(u) + "/" + Marker
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return ":" + p
	}
	return ""
}

// Secrets lists the strings that must never appear in a message about s (a URL or a key=value
// connection string): its password (and an http(s) user name without password), the values of its
// secret-looking parameters, those of URLs nested in its parameters, each raw and escaped, as a
// driver or an SDK may quote them. Give them to Error.
func Secrets(s string) []string {
	var out []string
	add := func(v string) {
		if v != "" && v != Marker {
			out = append(out, v, url.QueryEscape(v), url.PathEscape(v))
		}
	}
	if !hasScheme.MatchString(s) {
		for _, m := range kvPair.FindAllStringSubmatch(s, -1) {
			if IsSecretName(strings.TrimRight(m[1], " =\t")) {
				add(strings.Trim(m[2], "'"))
			}
		}
		return out
	}
	if m := rawPassword.FindStringSubmatch(s); m != nil {
		add(m[2]) // the raw text, as a driver's error would quote it (more than the password, at times)
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		} else if isHTTP(s) {
			add(u.User.Username())
		}
	} else if m := rawUser.FindStringSubmatch(s); m != nil && isHTTP(s) {
		add(m[2])
	}
	_, q, ok := strings.Cut(s, "?")
	if !ok {
		return out
	}
	pieces := strings.Split(q, "&")
	for i, p := range pieces {
		k, v, _ := strings.Cut(p, "=")
		val := unescape(v)
		switch {
		case IsSecretName(unescape(k)):
			add(val)
			add(v)
		case hasScheme.MatchString(val):
			out = append(out, Secrets(val)...)
			if v != val {
				out = append(out, Secrets(v)...)
			}
			if tail := v + "&" + strings.Join(pieces[i+1:], "&"); i+1 < len(pieces) && splitPassword(v, tail) {
				add(rawPassword.FindStringSubmatch(tail)[2])
			}
		}
	}
	return out
}

// Error returns err with every occurrence of the given secrets replaced by Marker in its text;
// errors.Is and errors.As still reach the cause. It returns err itself when nothing was found.
func Error(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, Marker)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// Credentials says where raw carries user info, or "" if it carries none: "user info" for
// scheme://user:password@ or scheme://user@, "the endpoint= parameter" for a URL with user info
// nested in a parameter. Targets, whose credentials come from the environment or files only,
// refuse such a URL (and say where, never what). A secret-looking parameter (token=) is not
// reported: no target knows one, so its own "unknown parameter" answer fits, and URL hides its
// value.
func Credentials(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil || rawUser.MatchString(raw) {
		return "user info"
	}
	if where := credentialsInQuery(raw); where != "" {
		return where
	}
	if rawPassword.MatchString(raw) {
		return "user info"
	}
	return ""
}

// credentialsInQuery is Credentials for the text after the first '?'.
func credentialsInQuery(raw string) string {
	_, q, ok := strings.Cut(raw, "?")
	if !ok {
		return ""
	}
	pieces := strings.Split(q, "&")
	for i, p := range pieces {
		k, v, _ := strings.Cut(p, "=")
		k, val := unescape(k), unescape(v)
		if !hasScheme.MatchString(val) {
			continue
		}
		if Credentials(val) != "" || i+1 < len(pieces) && splitPassword(v, v+"&"+strings.Join(pieces[i+1:], "&")) {
			return "the " + k + "= parameter"
		}
	}
	return ""
}
