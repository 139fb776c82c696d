// Package platform reads the configuration of a mutualised platform: one YAML file declaring
// several establishments (universities), each with its own SEDA identifiers (originating and
// submission agencies, the VITAM ingest contract its SIPs name), VITAM tenant and access
// contracts, profiles and retention schedule extensions, targets, state folder, ledger, access
// log, deposit API clients and nightly jobs (docs/platform.md).
//
// Load refuses, with the file, line and field, anything that would let one establishment reach
// another's data: two establishments sharing an id, a state folder, a ledger, an access log, a
// target folder or bucket prefix, an agency or contract identifier, a source secret or an API
// client, and a job of one whose files or targets point into another's.
//
// Establishment scoping is a value: the server, the workers and the commands are handed an
// *Establishment and read its fields; nothing here is global. (*Establishment).Profile gives a
// profile whose SEDA identifiers are the establishment's, so every SIP built from it names only
// that establishment's ids.
package platform
