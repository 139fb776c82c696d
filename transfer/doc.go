// Package transfer sends finished SIPs to where they are archived, through one Target interface with
// one implementation per kind of destination (a local folder, an S3 drop zone, VITAM's
// ingest-external API), decorators that wrap any of them (retries, dry run), and the hash-chained
// ledger that records what was sent, where, with which digest, and the receipt.
//
// The contract, as restic's internal/backend lays it out: each backend parses its own URL
// (dir.ParseURL, s3.ParseURL, vitam.ParseURL; targets.Open dispatches) and classifies its own
// failures (Transient, Permanent, Network; the sentinels ErrNotExist, ErrConflict,
// ErrNotSupported, ErrRejected, ErrDigest); the retry decorator reads only those marks
// (IsTransient). Optional capabilities (Indexed, Resumer, Prober) are found with As, through any
// chain of decorators. Every backend runs the conformance suite in transfer/targettest.
package transfer
