package testsvc

import (
	"net/http"
	"testing"
)

// The harness itself must work, or every S3 test would prove nothing.
func TestStartS3AnswersOverHTTPAndHTTPS(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := StartS3(t, S3Options{TLS: tlsOn})
		client := http.DefaultClient
		if tlsOn {
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfigFor(t, s.CAFile)}}
		}
		resp, err := client.Get(s.Endpoint)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		resp.Body.Close()
		// An unsigned request must be refused: proof that this is a real S3 server with auth on.
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: unsigned GET answered %d, want 403", s, resp.StatusCode)
		}
		s.Kill()
		if _, err := client.Get(s.Endpoint); err == nil {
			t.Errorf("%s still answers after Kill", s)
		}
		s.Start()
	}
}
