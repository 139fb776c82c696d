// Package accesslog is the record of every consultation of archived dossiers: one entry per
// search, view, download, listing of a dossier's accesses, and refusal, saying who (user, groups,
// how they were authenticated), when, which operation, which dossier (profile, class, tier, key),
// for a search its criteria and the dossiers it returned, the motive given, and the result.
//
// It is written in package chain's format, like the transfer ledger: one JSON line per entry,
// hash-chained, fsync'd before Append returns, with a head file beside it (access.jsonl →
// access.head), so that `versement verify --ledger FILE` checks it the same way and a changed,
// removed or reordered entry is found. Its entries begin with "kind":"access", which tells it
// from a transfer ledger (whose entries have no kind).
//
// # Who may read it
//
// The file and its head are created 0600 (an existing file readable by others is narrowed to
// 0600 when opened): the log names people and what they looked for. Which users may list it is
// the roles file's business (roles.Policy.MayReadLog); listing one dossier's accesses is itself
// an access, logged as OpAccessLog.
//
// # Retention
//
// French texts on processing logs ask that consultation records be kept three years. Nothing in
// versement deletes, rewrites or rotates an access log: it only grows. An operator who starts a
// new one (another path) keeps the old file and its head, unchanged, for at least three years
// after its last entry; cutting entries out of a file would break its chain, which is the point.
//
// # Writers
//
// One process writes a log at a time (an exclusive flock taken by Open: a second `versement
// serve` or a CLI run against the same file is refused at once); within it any number of
// goroutines append. ForKey reads what was committed when it started while appends go on.
package accesslog
