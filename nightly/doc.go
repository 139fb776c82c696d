// Package nightly runs versement's nightly jobs: a jobs file (YAML) names, per job, when to run
// (a cron spec in a time zone), what to run (profile, source, targets, as-of date, batch limits)
// and whom to tell. The Scheduler fires the jobs with robfig/cron, never runs two runs of one job
// at once (in one process or across processes, through a kernel lock a dead process cannot keep),
// reports runs missed while it was down, reloads the jobs file on demand and serves /healthz and
// Prometheus /metrics.
//
// A platform file (package platform) gives the same scheduler every establishment's jobs
// (ParseJobs checks them as a jobs file's): each job then carries its establishment, which
// labels its metrics and notifications, keeps its lock in the establishment's folder (Job.Dir)
// and runs one at a time with the establishment's other jobs.
//
// What a run does is behind the Runner interface: the pipeline implements it.
package nightly
