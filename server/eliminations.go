package server

import (
	"context"
	"time"

	"golang.org/x/text/language"
)

// Eliminations is what the pages of the proposals of elimination call (issue 16): the list of the
// proposals the runs wrote, one proposal's review, and the archives' visa on it, entered in a
// form instead of a file. Whether a person may record a visa (an archives-service role, not the
// one who proposed) and the ledger entry of every visa are the implementation's business; the
// server renders, signs on and protects. Errors, as for a Consultation: a Refusal gives a 403
// page with its message, an Invalid the review page again with its message (400), ErrNotFound a
// 404 page, any other a 500 page whose error text only goes to the server log.
type Eliminations interface {
	// Proposals lists the proposals, the newest first.
	Proposals(ctx context.Context, u User) ([]ProposalSummary, error)
	// Proposal is one proposal, by its identifier, to review; its labels and messages in tag's
	// language.
	Proposal(ctx context.Context, u User, id string, tag language.Tag) (ProposalReview, error)
	// Bordereau is the proposal's printable bordereau (HTML, A4), served in a sandbox: it must
	// refuse (a Refusal) who may not read its annex, and ErrNotFound when there is none.
	Bordereau(ctx context.Context, u User, id string, tag language.Tag) (Object, error)
	// RecordVisa records the visa u entered on proposal id; its refusals in tag's language.
	RecordVisa(ctx context.Context, u User, id string, v VisaForm, tag language.Tag) (VisaRecorded, error)
}

// ProposalSummary is one line of the list of proposals.
type ProposalSummary struct {
	ID       string // "ELIM-…": no personal data, it goes in URLs
	Profile  string
	Date     string // YYYY-MM-DD
	Lots     int
	Dossiers int64
	// Visa is the reference of the visa recorded on it, "" when none is; VisaEntry its ledger
	// entry's number.
	Visa      string
	VisaEntry int64
	// Executed: the visa was applied in the archive.
	Executed bool
}

// ProposalReview is a proposal as the archivist reviews it before the visa.
type ProposalReview struct {
	ProposalSummary
	// Header is the bordereau's header, label and value (agencies, profile, date, proposer), in
	// the page's language.
	Header []Field
	Lots   []ProposalLot
	// Bordereau: Eliminations.Bordereau has the printable bordereau for this user.
	Bordereau bool
	// MayRecord: u may record the visa; when not, NotAllowed says why (shown instead of the form).
	MayRecord  bool
	NotAllowed string
	// VisaDate and VisaSignatory are the recorded visa's, when there is one.
	VisaDate, VisaSignatory string
}

// Field is a label and its value.
type Field struct{ Label, Value string }

// ProposalLot is one line of the bordereau d'élimination.
type ProposalLot struct {
	ID           string // "<proposal>/L001": what the visa answers
	Class        string
	Rule         string
	DUAEndYear   int
	Dossiers     int64
	FinalAction  string
	Observations string
	// Decision is the recorded visa's answer: DecisionAccepted, DecisionRefused, or "".
	Decision string
}

// Decisions on a lot, in a VisaForm and a ProposalLot.
const (
	DecisionAccepted = "accepted"
	DecisionRefused  = "refused"
)

// VisaForm is the visa as the archivist entered it.
type VisaForm struct {
	Reference string
	Date      time.Time // zero when not given
	Signatory string
	// Decisions maps a lot's ID to DecisionAccepted or DecisionRefused; a lot left "sans
	// réponse" is not in it.
	Decisions map[string]string
}

// VisaRecorded is what RecordVisa recorded.
type VisaRecorded struct {
	Reference, Proposal           string
	Entry                         int64 // the ledger entry
	Already                       bool  // the same visa was recorded before: nothing changed
	Accepted, Refused, Unanswered int
	Dossiers                      int64 // in the accepted lots
}

// Invalid is a visa the implementation will not record as entered, with the message the user
// reads above the form again (400).
type Invalid struct{ Message string }

func (e *Invalid) Error() string { return "invalid: " + e.Message }

// Reject is an Invalid whose message the user reads.
func Reject(message string) error { return &Invalid{Message: message} }
