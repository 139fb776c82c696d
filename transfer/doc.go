// Package transfer sends finished SIPs to where they are archived, through one Target interface with
// one implementation per kind of destination (a local folder, an S3 drop zone, VITAM's
// ingest-external API), a retry decorator that wraps any of them, and the hash-chained ledger that
// records what was sent, where, with which digest, and the receipt.
package transfer
