package nightly

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/versement/versement/internal/yamlx"
	"github.com/versement/versement/job"
)

// RawJobs is a list of jobs as a file writes it, for a file that embeds one (the platform file's
// establishments[i].jobs): decoded into the same fields as a jobs file's and checked by ParseJobs
// with the same code, so a job means the same and is refused with the same message in both.
type RawJobs []rawJob

// JobsAt says where a list of jobs sits in the file that embeds it.
type JobsAt struct {
	Path     string    // the file, for errors; relative paths are resolved from its folder
	File     *ast.File // its YAML tree, for the lines of errors
	Field    string    // the list's field path, e.g. "establishments[0].jobs"
	Timezone string    // the zone of cron specs that name none
	// Defaults fills what the embedding file gives every job (an establishment's targets, state,
	// ledger) before the job is checked; it sets only what the job leaves empty.
	Defaults func(*job.Options)
}

// ParseJobs checks the jobs of raw as a jobs file's; errors name at.Path, the line and the field
// ("platform.yaml:31: establishments[1].jobs[0].cron: …").
func ParseJobs(at JobsAt, raw RawJobs) ([]*Job, error) {
	v := &validator{Fields: yamlx.Fields{Path: at.Path, File: at.File}, defaults: at.Defaults}
	tz := at.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	return v.jobs(at.Field, raw, tz)
}
