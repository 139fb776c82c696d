package nightly

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseConfig: whatever the jobs file holds, loading it returns a config or an error naming
// the file, and never panics.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("testdata/jobs.yaml"); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile("../deploy/jobs.example.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("jobs:\n  - name: a\n    cron: \"@every 1h\"\n"))
	f.Add([]byte("jobs: [{name: a, cron: '* * * * *', batch: {max_bytes: 1e99}}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("f.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, j := range c.Jobs {
			if j.Schedule == nil || j.Location == nil || j.Name == "" || len(j.Options.Targets) == 0 {
				t.Fatalf("accepted an incomplete job: %+v", j)
			}
		}
	})
}
