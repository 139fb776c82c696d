package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		// kept as written
		"s3://b/p?region=x&endpoint=https://h:9000": "s3://b/p?region=x&endpoint=https://h:9000",
		"dir:///srv/out?mode=0640":                  "dir:///srv/out?mode=0640",
		"postgres://apogee@db/apogee":               "postgres://apogee@db/apogee",
		// passwords and secret-looking parameters
		"postgres://apogee:S3cret@db/apogee":                                 "postgres://apogee:xxxxx@db/apogee",
		"s3://ak:sk@b/p?secret_key=zzz":                                      "s3://ak:xxxxx@b/p?secret_key=xxxxx",
		"postgres://apogee@db/apogee?sslpassword=S3cret&sslmode=verify-full": "postgres://apogee@db/apogee?sslpassword=xxxxx&sslmode=verify-full",
		"postgres://a@db/x?sslkey=/etc/k.pem":                                "postgres://a@db/x?sslkey=/etc/k.pem",
		"https://h/x?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&a=b":        "https://h/x?X-Amz-Signature=xxxxx&X-Amz-Credential=xxxxx&a=b",
		"https://h.blob/c?sv=2022&sig=S3cret":                                "https://h.blob/c?sv=2022&sig=xxxxx",
		// an http(s) user name alone is conventionally a token
		"https://ghp_T0ken@github.com/x": "https://xxxxx@github.com/x",
		// nested in a parameter
		"s3://bucket?endpoint=http://AK:SECRET@host:9000&path-style=true": "s3://bucket?endpoint=http://AK:xxxxx@host:9000&path-style=true",
		"s3://bucket?endpoint=http%3A%2F%2FAK%3ASECRET%40host":            "s3://bucket?endpoint=http://AK:xxxxx@host",
		"vitam+https://h?tenant=0&admin=https://TOKEN@a:2":                "vitam+https://h?tenant=0&admin=https://xxxxx@a:2",
		// a port then an '@' later reads as a password holding a '?': more is hidden than needed
		"vitam+https://h:1?tenant=0&admin=https://TOKEN@a:2": "vitam+https://h:xxxxx@a:2",
		// url.Parse refuses these: hidden up to the last '@'
		"postgres://apogee:S3c%ret@db:5432/apogee":   "postgres://apogee:xxxxx@db:5432/apogee",
		"oracle://harpege:S3c#r@t@db:1521/HARP":      "oracle://harpege:xxxxx@db:1521/HARP",
		"postgresql://apogee:S3 cret@db/apogee?x=%z": "postgresql://apogee:xxxxx@db/apogee?x=%z",
		"s3://AK:SE/CRET@bucket":                     "s3://AK:xxxxx@bucket",
		"s3://b:x?endpoint=http://AK:SE CRET@h":      "s3://b:xxxxx@h",
		"s3://b:x/?token=S3cret&a=1":                 "s3://b:x/?token=xxxxx&a=1",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyValuesAndString(t *testing.T) {
	for in, want := range map[string]string{
		"host=db password='a b' user=x":                "host=db password=xxxxx user=x",
		"host=db sslpassword=S3cret sslkey=/etc/k.pem": "host=db sslpassword=xxxxx sslkey=/etc/k.pem",
		"host=db PASSWORD = S3cret":                    "host=db PASSWORD = xxxxx",
	} {
		if got := KeyValues(in); got != want {
			t.Errorf("KeyValues(%q) = %q, want %q", in, got, want)
		}
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	if got := String("postgres://a:S3cret@db/x"); got != "postgres://a:xxxxx@db/x" {
		t.Errorf("String(URL) = %q", got)
	}
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/S3cret": "https://hooks.slack.com/xxxxx",
		"https://u:p@chat.example.org:8443/hook?t=1":    "https://chat.example.org:8443/xxxxx",
		"not a url": "(unparsable URL)",
	} {
		if got := HostOnly(in); got != want {
			t.Errorf("HostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorHidesEveryFormOfTheSecrets(t *testing.T) {
	for _, dsn := range []string{
		"postgres://apogee:S3c%ret@db/x",
		"postgres://apogee:S3c/ret@db/x",
		"postgres://apogee:S3c ret@db/x",
		"postgres://apogee@db/x?sslpassword=S3cret",
		"s3://b?endpoint=http://AK:S3cret@h",
		"host=db password='S3c ret'",
	} {
		secrets := Secrets(dsn)
		if len(secrets) == 0 {
			t.Errorf("Secrets(%q): none", dsn)
			continue
		}
		cause := &fs.PathError{Op: "dial", Path: secrets[0], Err: fs.ErrPermission}
		err := Error(fmt.Errorf("connect %s: %w", secrets[len(secrets)-1], cause), secrets)
		if strings.Contains(err.Error(), "S3c") || !strings.Contains(err.Error(), Marker) {
			t.Errorf("%q: %v", dsn, err)
		}
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%q: the cause is lost", dsn)
		}
	}
	plain := errors.New("no secret here")
	if Error(plain, []string{"S3cret"}) != plain || Error(nil, nil) != nil {
		t.Error("Error must return err itself when there is nothing to hide")
	}
}

func TestCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"s3://bucket/p?endpoint=https://h:9000&path-style=true": "",
		"dir:///srv/out?mode=0640":                              "",
		"s3://AK:SECRET@bucket":                                 "user info",
		"s3://AK@bucket":                                        "user info",
		"dir://u:p@host/srv":                                    "user info",
		"s3://AK:SE/CRET@bucket":                                "user info",
		"s3://bucket?endpoint=http://AK:SECRET@host":            "the endpoint= parameter",
		"s3://bucket?endpoint=http%3A%2F%2FAK%3ASECRET%40host":  "the endpoint= parameter",
		"s3://bucket?endpoint=http://AK@host":                   "the endpoint= parameter",
		"vitam+https://h:1?tenant=0&admin=https://u:p@a":        "the admin= parameter",
		"s3://bucket?secret_key=zzz":                            "",
		"s3://b:x/?token=S3cret":                                "",
	} {
		if got := Credentials(in); got != want {
			t.Errorf("Credentials(%q) = %q, want %q", in, got, want)
		}
	}
}

// A password may hold any character a user can type, escaped or not. Whatever it holds, none of
// it may show, and the URL is recognised as carrying credentials. The password is drawn from
// letters that the URLs around it do not hold (Q, Z) and the characters that end URL parts.
func FuzzPasswordNeverShows(f *testing.F) {
	for _, s := range []string{"QZ", "Q@Z", "Q/Z@Q", "Q&Z=Q@Z", "Q#Z", "Q?Z", "Q%Z", "Q Z", "Q:Z", "Q+Z&a=b", "Q@", "1?Q@Z"} {
		f.Add(s)
	}
	const alphabet = "QZ@/&#?%:= +;1"
	f.Fuzz(func(t *testing.T, in string) {
		var b strings.Builder
		for i := 0; i < len(in); i++ {
			b.WriteByte(alphabet[int(in[i])%len(alphabet)])
		}
		pw := b.String()
		if !strings.ContainsAny(pw, "QZ") {
			return
		}
		for _, raw := range []string{
			"s3://ak:" + pw + "@bucket/p",
			"s3://bucket/p?endpoint=http://AK:" + pw + "@host:9000&path-style=true",
			"s3://bucket/p?region=x&endpoint=https://AK:" + pw + "@host",
			"postgres://apogee:" + pw + "@db/apogee?sslmode=verify-full",
		} {
			got := URL(raw)
			if strings.ContainsAny(got, "QZ") {
				t.Errorf("URL(%q) = %q shows part of the password", raw, got)
			}
			if !strings.HasPrefix(raw, "postgres") && Credentials(raw) == "" {
				t.Errorf("Credentials(%q): none found", raw)
			}
			err := Error(errors.New("dial "+raw+": refused"), Secrets(raw))
			if strings.Contains(err.Error(), pw) {
				t.Errorf("Error for %q: %v", raw, err)
			}
		}
	})
}
