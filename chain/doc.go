// Package chain is the one hash-chained, append-only file format that versement keeps its
// records in: the transfer ledger (what was sent where) and the access log (who consulted which
// dossier) alike, so that one verification, `versement verify --ledger FILE`, checks both.
//
// A file holds one JSON object per line. Every entry starts with the fields that chain it (its
// format version, its sequence number 1, 2, 3…, its time, and the hash of the entry before it,
// Genesis for the first), holds its own fields, and ends with "hash": the SHA-256 of the line's
// bytes exactly as written, with the hash value itself left empty ("hash":""). Checking a line
// therefore never depends on how a JSON library would re-encode it: an auditor can check it with
// sed and sha256sum. Changing, removing or reordering any line breaks the chain at that line.
//
// The chain alone cannot show that entries were removed from the end, or that the whole chain was
// recomputed: a head, COUNT:HASH, kept apart from the file can. The writer keeps one in a file
// beside it (HeadPath), and a head published elsewhere (a run report, a ticket) can be checked
// against the file later (Verify).
//
// Each append is written in one write and fsync'd before Append returns, then the head file is
// replaced atomically. A crash can leave only a torn last line (reported by Verify, cut off by the
// next Open) or a head one entry behind (brought up to date by the next Open).
//
// One process writes a file at a time: Open takes an exclusive flock and fails at once if another
// process holds it. Within that process any number of goroutines may append. Readers (Read,
// Verify) take no lock: they only ever see whole, fsync'd lines, or a torn last line that they
// report as such.
//
// What an entry holds besides its chain fields is the caller's: a Format says how to reach the
// chain fields of its entry type and how messages name the file ("ledger", "access log").
package chain
