// Package deposit is what other applications deposit through versement's API, one establishment's
// worth: transactions, modelled on VITAM's collect module and on Pastell. A transaction is either
// units (dossier documents, the JSON a run writes) with their objects uploaded in chunks, or one
// finished SEDA SIP. Closing a transaction gives it to the same decision, SIP building,
// verification, sending and ledger as a run: the units are read as a source (extract.Source) by
// pipeline.Execute. The transactions live in the establishment's own state folder; nothing of one
// establishment is reachable through another's Service.
package deposit

import (
	"fmt"
	"time"
)

// Kind says what a transaction carries.
type Kind string

// Kinds of transaction.
const (
	KindUnits Kind = "units" // dossier documents and their objects, built into SIPs at close
	KindSIP   Kind = "sip"   // one finished SEDA SIP, verified then sent as it is
)

// Header is what the depositing application says of a transaction when it opens it. The agencies
// and the contract must be the establishment's own: a transaction naming another's is refused at
// close with the field named, before anything reaches the archive.
type Header struct {
	// Profile is one of the establishment's profiles (apogee, harpege, or one it declares);
	// Class one of that profile's classes: the units are dossiers of that class.
	Profile string `json:"profile"`
	Class   string `json:"class"`
	// OriginatingAgency and SubmissionAgency are SEDA's; empty: the establishment's.
	OriginatingAgency string `json:"originating_agency,omitempty"`
	SubmissionAgency  string `json:"submission_agency,omitempty"`
	// ArchivalAgreement is the ingest contract; empty: the establishment's.
	ArchivalAgreement string `json:"archival_agreement,omitempty"`
	// Reference is the depositor's own identifier of the deposit: opening a second transaction
	// with the same reference returns the first (a client retrying after a lost reply).
	Reference string `json:"reference,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// State is where a transaction stands.
type State string

// States of a transaction, in order. A failed transaction can be closed again (a retry).
const (
	StateOpen       State = "open"       // receiving units and objects
	StateQueued     State = "queued"     // closed, waiting for a worker
	StateProcessing State = "processing" // a worker builds, verifies and sends
	StateDone       State = "done"       // every SIP is at the target (and VITAM answered, for VITAM)
	StateFailed     State = "failed"     // see Transaction.Error; closing again retries
)

// Transaction is a deposit as its status reply gives it.
type Transaction struct {
	ID            string    `json:"id"`
	Establishment string    `json:"establishment"`
	Kind          Kind      `json:"kind"`
	Header        Header    `json:"header"`
	State         State     `json:"state"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	// By is the API client that opened it.
	By      string   `json:"by"`
	Units   int      `json:"units"`
	Objects []Object `json:"objects,omitempty"`
	// SIPs are those built and sent at close (one for a KindSIP transaction).
	SIPs  []SIPRef `json:"sips,omitempty"`
	Error *Error   `json:"error,omitempty"`
	// Tiers counts the units per tier the retention decision gave them at processing (active,
	// intermediate, final, destroy, undetermined): only intermediate and final ones go into SIPs,
	// so a done transaction may have none.
	Tiers map[string]int64 `json:"tiers,omitempty"`
}

// Object is one uploaded object of a units transaction, named as the units' documents name it
// ({"object": NAME, "size": N} in a LOB column).
type Object struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`     // the whole object's size, as the first chunk's Content-Range said
	SHA256   string `json:"sha256"`   // the whole object's digest, lowercase hex, as the client declared it
	Received int64  `json:"received"` // bytes stored so far: a client resumes from here
	Complete bool   `json:"complete"` // every byte received and the whole digest checked
}

// Chunk is one piece of an object's upload: bytes [Offset, Offset+Length) of an object of Total
// bytes, whose SHA-256 is ChunkSHA256; ObjectSHA256 is the whole object's, the same on every chunk.
type Chunk struct {
	Name         string
	Offset       int64
	Length       int64
	Total        int64
	ChunkSHA256  string
	ObjectSHA256 string
}

// SIPRef is a SIP a transaction produced.
type SIPRef struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`
	Bytes    int64  `json:"bytes"`
	Tier     string `json:"tier"`
	Dossiers int    `json:"dossiers"`
	Target   string `json:"target"` // redacted, as the ledger names it
	// Status is the target's: stored, or for VITAM submitted, accepted, rejected.
	Status string `json:"status"`
	// ATR is true when the archive's transfer reply is kept (GET …/atr).
	ATR bool `json:"atr,omitempty"`
}

// ErrorKind classifies a refusal, which the API turns into an HTTP status.
type ErrorKind string

// Kinds of refusal.
const (
	Invalid       ErrorKind = "invalid"       // 400: malformed request or document
	NotFound      ErrorKind = "not-found"     // 404: no such transaction or object in this establishment
	Conflict      ErrorKind = "conflict"      // 409: wrong state, or a chunk not at the received offset
	Unprocessable ErrorKind = "unprocessable" // 422: digest mismatch, referential error, SIP findings
	TooLarge      ErrorKind = "too-large"     // 413: beyond the configured limits
)

// Error is a refusal the depositor can act on. Field names the header field, unit or object at
// fault ("header.archival_agreement", "units[3].tables[1]", "objects/photo.jpg"); Findings are a
// refused SIP's verification findings; Received is an object's stored bytes (a Conflict on a
// chunk's offset says where to resume).
type Error struct {
	Kind     ErrorKind `json:"kind"`
	Field    string    `json:"field,omitempty"`
	Msg      string    `json:"message"`
	Findings []string  `json:"findings,omitempty"`
	Received *int64    `json:"received,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	}
	return e.Msg
}

// errorf returns an *Error of kind k about field.
func errorf(k ErrorKind, field, format string, args ...any) *Error {
	return &Error{Kind: k, Field: field, Msg: fmt.Sprintf(format, args...)}
}
