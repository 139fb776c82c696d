package nightly

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// The examples in deploy/ are what operators copy: they must stay valid.
func TestDeployExamples(t *testing.T) {
	if _, err := LoadConfig("../deploy/jobs.example.yaml"); err != nil {
		t.Errorf("deploy/jobs.example.yaml: %v", err)
	}

	b, err := os.ReadFile("../deploy/kubernetes/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var jobs *Config
	var args []string
	for _, d := range f.Docs {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
				TimeZone          string `yaml:"timeZone"`
				JobTemplate       struct {
					Spec struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Args []string `yaml:"args"`
								} `yaml:"containers"`
							} `yaml:"spec"`
						} `yaml:"template"`
					} `yaml:"spec"`
				} `yaml:"jobTemplate"`
			} `yaml:"spec"`
		}
		if err := yaml.NodeToValue(d.Body, &obj); err != nil {
			t.Fatal(err)
		}
		switch obj.Kind {
		case "ConfigMap":
			jobs, err = ParseConfig("configmap jobs.yaml", []byte(obj.Data["jobs.yaml"]))
			if err != nil {
				t.Errorf("the ConfigMap's jobs file: %v", err)
			}
		case "CronJob":
			if obj.Spec.ConcurrencyPolicy != "Forbid" || obj.Spec.TimeZone != "Europe/Paris" {
				t.Errorf("CronJob: concurrencyPolicy %q, timeZone %q", obj.Spec.ConcurrencyPolicy, obj.Spec.TimeZone)
			}
			args = obj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
		}
	}
	if jobs == nil || args == nil {
		t.Fatal("no ConfigMap or no CronJob")
	}
	once := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--once="); ok {
			once = v
		}
	}
	if jobs.Job(once) == nil {
		t.Errorf("the CronJob runs --once=%q, not a job of its ConfigMap", once)
	}
	if src := jobs.Job(once).Source.File; filepath.Dir(src) != "/run/secrets/versement" {
		t.Errorf("the job reads its source from %q, not from the mounted Secret", src)
	}
}
