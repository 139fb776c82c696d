// Package index is the consultation index: for each archived dossier one Entry saying who it is
// about and where it went (profile, key, identifiers, names, dates, rule, SIP, target, objects),
// searchable by identifier, by name with typos and accents tolerated, by birth date and by year
// of registration (issue #15, "Find").
//
// Store is the interface a run writes to and `versement consult`/`serve` read from. The embedded
// default is SQLite (Open, a file in the state folder); a PostgreSQL store will implement the same
// interface and pass the same conformance suite (package indextest). What both share lives here
// as plain Go: Query.Normalize (the validation and its error messages), Fold and NameTokens (how
// names are folded and cut into tokens), Distance (Damerau edits) and NameCost (the rule that
// decides whether a name matches and with how many edits), so that a name matches the same way
// whatever the database.
//
// How a search reads:
//   - Identifier: an exact value of any identifier, or the key; case matters, no prefix.
//   - Name: words in any order, case and accents ignored (é→e, ç→c, œ→oe, ß→ss), spaces, hyphens
//     and apostrophes alike, and words written together found as written apart ("LEGOFF" is
//     "Le Goff", "Jeanpierre" is "Jean-Pierre"). Every word typed must match one of the person's
//     names (first, birth or usage); the person may have more. Each word, or run of words written
//     together, tolerates Edits(letters) edits: none for 1–2 letters, 1 up to 7, 2 from 8, a
//     transposition counting one. Exact matches rank before fuzzy ones (Score 1, then ½, ⅓).
//   - Born (YYYY or YYYY-MM-DD) and Year (a year the registration span covers) narrow.
//   - Year alone lists; Born alone is refused. A name alone is capped by Limit (50 by default,
//     500 at most), like every search.
package index
