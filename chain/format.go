package chain

import (
	"io/fs"
	"time"
)

// Genesis is the Prev of the first entry, and the hash of an empty file's head.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxLine bounds one entry, newline included: real ones are well under 4 KiB, and a file handed
// to an auditor must not make verify read gigabytes into memory looking for a newline. Append
// refuses a longer entry, so that a writer never writes what verify would reject.
const MaxLine = 1 << 20

// Link is what chains an entry to the one before it: the fields every entry has, whatever else it
// holds. In the JSON line, V, Seq, Time and Prev come first (in the entry type's field order) and
// Hash last.
type Link struct {
	V    int       // format version of the entry
	Seq  int64     // 1, 2, 3…: a gap is tampering
	Time time.Time // when it was appended (UTC)
	Prev string    // Hash of the previous entry (Genesis for the first)
	Hash string    // SHA-256 of this line with "hash":""
}

// Format describes one kind of entry E: how to reach its chain fields and how messages name what
// it is written in. One Format value serves every Open, Read and Verify of that kind.
//
// E's JSON encoding (encoding/json) must end with its "hash" field: E is a struct whose last
// field is a string tagged json:"hash".
type Format[E any] struct {
	Name      string      // how messages name the file: "ledger", "access log"
	EntryName string      // how they name an entry, with its article: "a ledger entry"
	Version   int         // written in V of every appended entry
	Perm      fs.FileMode // of a file Open creates, and of its head file
	// HeadFrom says where an auditor finds a head published elsewhere, for the message about a
	// missing head file: "from a run report".
	HeadFrom string
	// Writer names what appends, for the note about a head left behind: "run" gives "(an
	// interrupted run; the next run updates it)".
	Writer string

	Link    func(*E) Link  // the entry's chain fields
	SetLink func(*E, Link) // sets them

	// Ref, when not nil, names the entry in a problem found at its line ("SIP x.zip" is the
	// ledger's). It must not return personal data: verify's output is shown and logged.
	Ref func(*E) string
	// TailRef, when not nil, names what a torn last line was about, from its bytes (the SIP), for
	// Cut and the warning Open logs. Same rule: no personal data.
	TailRef func(tail []byte) string
	// Check, when not nil, checks a decoded entry whose chain holds: an error is a problem at its
	// line ("not an access log entry: …").
	Check func(*E) error
}
