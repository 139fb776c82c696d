// Package eliminate closes the loop that a proposal of elimination opens: the archives' visa on
// it, its execution in the archive, and the attestation that proves it (Code du patrimoine
// R212-14: nothing is destroyed without the archives service's visa; GDPR art. 5(1)(e): what is
// past its retention period must go).
//
//   - ImportVisa reads the archives' decision (CSV in the bordereau's own layout, or JSON), checks
//     it against the proposal the archivist signed (bordereau-elimination.json), keeps both in the
//     state folder and records the visa in the ledger.
//   - Execute re-decides every accepted dossier as of the execution (a hold put since the
//     proposal, a schedule changed: the dossier is spared, and the attestation says why), rewrites
//     each SIP holding a destroyed dossier without it (sip.Rewrite: the kept dossiers' bytes are
//     copied, not re-made), verifies, sends and records the new SIP with a link to the old one, and
//     only then deletes the old SIP. A SIP under Object Lock stays, recorded "locked", until a
//     later Execute finds its lock over.
//
// Crash safety (docs/elimination.md): every step is idempotent and its outcome recorded before
// the next starts — the rewrite is deterministic (same visa, same dossiers: same bytes, same name),
// the new SIP is in the ledger before the state forgets the destroyed dossiers, and the state
// says "replaced" before the old SIP is deleted. A run killed anywhere and run again ends as an
// uninterrupted one: no dossier missing from both SIPs, none destroyed twice.
package eliminate
