package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

// verifyLedger checks the ledger's hash chain and, when targetURL is not empty, that every SIP it
// records as stored at that target is there with its recorded SHA-256. It prints a report (text
// or JSON) to w. ok is false when something is wrong with the ledger or the target's copies; err
// is set when the check could not be done (unreadable ledger, bad target URL). For `versement
// verify --ledger FILE [--target URL]`: exit exitFindings when !ok, exitError when err != nil.
func verifyLedger(ctx context.Context, w io.Writer, ledgerPath, targetURL string, asJSON bool) (ok bool, err error) {
	var tg transfer.Target
	if targetURL != "" {
		if tg, err = targets.Open(ctx, targetURL, transfer.Options{}); err != nil {
			return false, err
		}
		defer tg.Close()
	}
	rep, err := ledger.Verify(ctx, ledgerPath, tg)
	if err != nil {
		return false, err
	}
	if rep.Problems == nil {
		rep.Problems = []ledger.Problem{}
	}
	if asJSON {
		b, err := json.MarshalIndent(struct {
			OK bool `json:"ok"`
			ledger.Report
		}{rep.OK(), rep}, "", "  ")
		if err != nil {
			return false, err
		}
		_, err = fmt.Fprintln(w, string(b))
		return rep.OK(), err
	}
	fmt.Fprintf(w, "ledger %s: %d entries chained", ledgerPath, rep.Entries)
	if rep.Last != "" {
		fmt.Fprintf(w, ", last hash %s", rep.Last)
	}
	fmt.Fprintln(w)
	if rep.Target != "" {
		fmt.Fprintf(w, "target %s: %d SIPs present with their recorded SHA-256, %d entries not checkable there\n", rep.Target, rep.Checked, rep.Skipped)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "BROKEN %s\n", p)
	}
	if rep.OK() {
		fmt.Fprintln(w, "OK")
	}
	return rep.OK(), nil
}
