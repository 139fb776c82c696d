// Package index is the consultation index: for each archived dossier one Entry saying who it is
// about and where it went (profile, key, identifiers, names, dates, rule, SIP, target, objects),
// searchable by identifier, by name with typos and accents tolerated, by birth date and by year
// of registration (issue #15, "Find").
//
// Store is the interface a run writes to and `versement consult`/`serve` read from. The embedded
// default is SQLite (Open, a file in the state folder); a PostgreSQL store will implement the same
// interface and pass the same conformance suite (package indextest). What both share lives here
// as plain Go: Query.Normalize (the validation and its error messages), Fold and NameTokens (how
// names are folded and cut into tokens), Distance (Damerau edits) and the name matcher that
// ranks and explains a match, so that a name matches the same way whatever the database.
package index
