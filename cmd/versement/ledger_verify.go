package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/accesslog"
	"github.com/versement/versement/chain"
	"github.com/versement/versement/deposit"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// ledgerCheck is what `versement verify --ledger FILE [--target URL] [--head COUNT:HASH]` asks;
// FILE is a transfer ledger, an access log or a deposits journal.
type ledgerCheck struct {
	Path, Target, Head string
	JSON               bool
}

// verifyLedger checks the ledger's hash chain and head and, when targetURL is not empty, the
// target (see checkLedger). ok is false when something is wrong with the ledger or the target's
// copies, or nothing could be checked at the target; err is set when the check could not be done.
func verifyLedger(ctx context.Context, w io.Writer, ledgerPath, targetURL string, asJSON bool) (ok bool, err error) {
	rep, err := checkLedger(ctx, w, ledgerCheck{Path: ledgerPath, Target: targetURL, JSON: asJSON})
	return err == nil && rep.OK(), err
}

// ledgerExit is the error `verify` returns for a ledger: nil when it holds, exit 1 when it does
// not (or nothing could be checked at the target, with the reason), exit 2 when it could not be
// checked.
func ledgerExit(ctx context.Context, w io.Writer, lc ledgerCheck) error {
	rep, err := checkLedger(ctx, w, lc)
	what := rep.Kind.noun()
	switch {
	case err != nil:
		return cli.Exit("verify: "+what+" "+lc.Path+": "+err.Error(), exitError)
	case len(rep.Problems) > 0 || rep.TornTail:
		return cli.Exit("verify: "+what+" "+lc.Path+" does not hold", exitFindings)
	case rep.Unchecked != "":
		return cli.Exit("verify: ledger "+lc.Path+": nothing was checked at the target: "+rep.Unchecked, exitFindings)
	}
	return nil
}

// logKind is what --ledger was given: both are hash-chained files in package chain's format.
type logKind string

const (
	transferLedger  logKind = "transfer-ledger"
	accessLog       logKind = "access-log"
	depositsJournal logKind = "deposits-journal"
)

func (k logKind) noun() string {
	switch k {
	case accessLog:
		return "access log"
	case depositsJournal:
		return "deposits journal"
	}
	return "ledger"
}

// otherChains are the hash-chained files besides the transfer ledger that --ledger checks, each
// told apart by its first entry: their chain and heads, nothing at a target.
var otherChains = []struct {
	kind   logKind
	a      string // "an access log", for messages
	is     func(path string) (bool, error)
	verify func(ctx context.Context, path string, head *chain.Head) (chain.Audit, error)
}{
	{accessLog, "an access log", accesslog.IsAccessLog, accesslog.Verify},
	// The deposits' SIPs are in the establishment's transfer ledger, checked against the target.
	{depositsJournal, "a deposits journal", deposit.IsJournal, deposit.VerifyJournalFile},
}

// ledgerReport is what verify found in either kind of file; the target's fields are the transfer
// ledger's only.
type ledgerReport struct {
	Kind logKind `json:"kind"`
	ledger.Audit
}

// checkLedger verifies a transfer ledger or an access log (told apart by its first entry, see
// accesslog.IsAccessLog): its hash chain, the head file beside it and the head given with --head;
// for a transfer ledger with a target URL, also that every SIP the ledger records as stored there
// is there with its recorded SHA-256 and that every object there is in the ledger. It prints a
// report (text or JSON) to w. A dir:// target whose folder does not exist is not created: every
// SIP recorded there is reported missing.
func checkLedger(ctx context.Context, w io.Writer, lc ledgerCheck) (ledgerReport, error) {
	var head *chain.Head
	if lc.Head != "" {
		h, err := chain.ParseHead(lc.Head)
		if err != nil {
			return ledgerReport{}, fmt.Errorf("--head %w", err)
		}
		head = &h
	}
	// A file that cannot be opened is left to the ledger's reader, which says so.
	for _, o := range otherChains {
		if is, _ := o.is(lc.Path); !is {
			continue
		}
		rep := ledgerReport{Kind: o.kind}
		if lc.Target != "" {
			return rep, fmt.Errorf("is %s: --target checks the SIPs a transfer ledger lists", o.a)
		}
		a, err := o.verify(ctx, lc.Path, head)
		rep.Audit = ledger.Audit{Path: a.Path, Entries: a.Entries, Last: a.Last, Heads: a.Heads, TornTail: a.TornTail, Notes: a.Notes}
		for _, p := range a.Problems {
			rep.Problems = append(rep.Problems, ledger.Problem{Line: p.Line, Reason: p.Reason})
		}
		if err != nil {
			return rep, err
		}
		return rep, printLedgerReport(w, lc, rep)
	}
	rep := ledgerReport{Kind: transferLedger}
	opts := ledger.VerifyOptions{Head: head}
	absent := ""
	if lc.Target != "" {
		if absent = absentDir(lc.Target); absent != "" {
			opts.Target = missingFolder{url: "dir://" + absent}
		} else {
			tg, err := targets.Open(ctx, lc.Target, targets.Options{})
			if err != nil {
				return rep, err
			}
			defer tg.Close()
			opts.Target = tg
		}
	}
	a, err := ledger.VerifyWith(ctx, lc.Path, opts)
	rep.Audit = a
	if err != nil {
		return rep, err
	}
	if absent != "" {
		note := "the folder " + absent + " does not exist"
		rep.Notes = append(rep.Notes, note)
		if rep.Unchecked != "" {
			rep.Unchecked += " (" + note + ")"
		}
	}
	return rep, printLedgerReport(w, lc, rep)
}

// printLedgerReport prints what verify found, as text or JSON; the first line says which kind of
// file it read.
func printLedgerReport(w io.Writer, lc ledgerCheck, rep ledgerReport) error {
	if rep.Problems == nil {
		rep.Problems = []ledger.Problem{}
	}
	if lc.JSON {
		b, err := json.MarshalIndent(struct {
			OK bool `json:"ok"`
			ledgerReport
		}{rep.OK(), rep}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	what := "transfer ledger"
	if rep.Kind != transferLedger {
		what = rep.Kind.noun()
	}
	fmt.Fprintf(w, "%s %s: %d entries chained", what, lc.Path, rep.Entries)
	if rep.Last != "" {
		fmt.Fprintf(w, ", last hash %s", rep.Last)
	}
	fmt.Fprintln(w)
	for _, h := range rep.Heads {
		switch {
		case !h.OK:
			fmt.Fprintf(w, "head %s (%s): does not match\n", h.Head, h.Source)
		case h.Extra > 0:
			fmt.Fprintf(w, "head %s (%s): holds, %d entries appended since\n", h.Head, h.Source, h.Extra)
		default:
			fmt.Fprintf(w, "head %s (%s): holds\n", h.Head, h.Source)
		}
	}
	if rep.Target != "" {
		fmt.Fprintf(w, "target %s: %d SIPs present with their recorded SHA-256, %d entries not checkable there, %d objects not in the ledger\n",
			rep.Target, rep.Checked, rep.Skipped, rep.Extra)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "BROKEN %s\n", p)
	}
	if rep.Unchecked != "" {
		fmt.Fprintf(w, "NOT CHECKED %s\n", rep.Unchecked)
	}
	if rep.OK() {
		fmt.Fprintln(w, "OK")
	}
	return nil
}

// absentDir is the folder of a dir:// URL when it does not exist: verify must not create it (as
// opening the target for sending would), and a folder that is gone is a finding, not a bad call.
func absentDir(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "dir" || u.RawQuery != "" || u.Host+u.Path == "" {
		return ""
	}
	p := u.Host + u.Path
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return strings.TrimPrefix(ledger.NormalizeTarget(raw), "dir://")
}

// missingFolder is a dir:// target whose folder does not exist: nothing is there.
type missingFolder struct{ url string }

func (m missingFolder) Put(context.Context, transfer.SIP) (transfer.Receipt, error) {
	return transfer.Receipt{}, transfer.ErrNotSupported
}
func (m missingFolder) Stat(_ context.Context, name string) (transfer.Object, error) {
	return transfer.Object{}, fmt.Errorf("%s: %w", name, transfer.ErrNotExist)
}
func (m missingFolder) List(context.Context, func(transfer.Object) error) error { return nil }
func (m missingFolder) String() string                                          { return m.url }
func (m missingFolder) Close() error                                            { return nil }
