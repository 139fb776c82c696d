// Package jobs is versement's durable work queue: deposits to build and send, and nightly runs of
// an establishment's jobs, claimed by any number of worker processes on any number of machines.
//
// It is a thin layer over riverqueue/river, not a queue of its own: river keeps the jobs in
// PostgreSQL (riverpgxv5, when a platform's workers share their state) or in one SQLite file
// (riversqlite over modernc.org/sqlite, the single-machine default), retries a failed job with
// exponential backoff, discards it after Config.MaxAttempts (Queue.Failed lists those for ops),
// rescues a job whose worker died (Config.RescueAfter) and, on its elected leader only, enqueues
// the periodic runs (Config.Periodic), so that a tick enqueues once whatever the number of workers.
//
// What a job does is the caller's (Handlers): jobs imports neither the pipeline nor the deposit
// service, and knows an establishment only by its name. A job may run more than once (a worker
// killed after the work but before river recorded it, a rescue of a job still running): the
// handlers must be idempotent, as the pipeline and the deposits are (a SIP is recognised at the
// target by name and digest, and never sent twice).
package jobs
