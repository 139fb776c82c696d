package pipeline

import (
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/versement/versement/internal/bytesize"
	"github.com/versement/versement/internal/lang"
	"github.com/versement/versement/internal/textsafe"
	"github.com/versement/versement/retention"
)

// SummaryOptions say how a run's summary is printed.
type SummaryOptions struct {
	Lang language.Tag // the reader's language (lang.FromEnv); the zero Tag is English
	// Verbose lists every SIP; otherwise one line says how many and where, and the report (JSON)
	// has the list.
	Verbose bool
	// Files are the files the run wrote for a person to read (the report, the elimination
	// proposal, the bordereaux), named on a line of their own.
	Files []string
}

// WriteSummary prints the report for a person in English, listing every SIP.
func (r *Report) WriteSummary(w io.Writer) error {
	return r.WriteSummaryWith(w, SummaryOptions{Lang: lang.English, Verbose: true})
}

// WriteSummaryWith prints the report for a person: what was decided, per tier and per rule, what
// was (or would be) archived, and where to look next, in the reader's language.
func (r *Report) WriteSummaryWith(w io.Writer, o SummaryOptions) error {
	p := lang.Printer(o.Lang)
	var b strings.Builder
	r.writeHeader(&b, p)
	r.writeTiers(&b, p)
	r.writeUndetermined(&b, p, o.Lang)
	r.writeAnomalies(&b, p)
	r.writeSIPs(&b, p, o.Verbose)
	r.writeRepairs(&b, p)
	p.Fprintf(&b, "\n%d dossiers in %.1fs (%.0f dossiers/s", r.Dossiers, r.Seconds, r.DossiersPerSecond)
	if r.Bytes > 0 {
		p.Fprintf(&b, ", %s/s", bytesize.Format(int64(r.BytesPerSecond)))
	}
	b.WriteString(")\n")
	if r.Eliminations > 0 {
		p.Fprintf(&b, "%d dossier(s) proposed for elimination: nothing was deleted; the proposal needs the archives' visa (R212-14)\n", r.Eliminations)
	}
	if files := append(o.Files[:len(o.Files):len(o.Files)], r.Documents...); len(files) > 0 {
		p.Fprintf(&b, "files written: %s\n", strings.Join(files, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeHeader(b *strings.Builder, p *message.Printer) {
	mode := p.Sprintf("run")
	if r.DryRun {
		mode = p.Sprintf("dry run (nothing written)")
	}
	if r.Interrupted {
		mode += p.Sprintf(", interrupted")
	}
	p.Fprintf(b, "versement %s: profile %s, source %s (%s), as of %s", mode, r.Profile, r.Source, r.Dialect, r.AsOf)
	if r.Decommission {
		b.WriteString(p.Sprintf(", decommission: active dossiers go to intermediate archiving"))
	}
	b.WriteString("\n\n")
}

// tierName is a tier as a person reads it.
func tierName(p *message.Printer, t retention.Tier) string { return p.Sprintf(string(t)) }

func (r *Report) writeTiers(b *strings.Builder, p *message.Printer) {
	p.Fprintf(b, "  %-13s %9s\n", p.Sprintf("tier"), p.Sprintf("dossiers"))
	for _, t := range AllTiers {
		n := r.Tiers[t]
		if n == 0 && (t == retention.Held || t == retention.Undetermined) {
			continue
		}
		_, archived := Selected(t, r.ArchiveTiers, r.Decommission)
		note := tierNote(p, t, archived, r.DryRun)
		if t == retention.Held && archived {
			note += p.Sprintf(" as intermediate, with their HoldRule")
		}
		if t == retention.Intermediate && r.Decommissioned > 0 {
			note += p.Sprintf(" (%d of them active, by decommission)", r.Decommissioned)
		}
		p.Fprintf(b, "  %-13s %9d  %s\n", tierName(p, t), n, note)
	}
	p.Fprintf(b, "  %-13s %9d\n", p.Sprintf("total"), r.Dossiers)

	b.WriteString(p.Sprintf("\nby rule:\n"))
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, rc := range r.Rules {
		status := ""
		if rc.Status == retention.ToConfirm {
			status = p.Sprintf("(to confirm)")
		}
		rule := rc.Rule
		if rule == "" {
			rule = "-"
		}
		p.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", rc.Class, rule, tierName(p, rc.Tier), rc.Dossiers, status)
	}
	tw.Flush()
}

// reasonIn is an undetermined dossier's reason in the reader's language; a report read back from
// JSON has the English only.
func reasonIn(tag language.Tag, reason string, dec retention.Decision) string {
	if dec.Reason == reason {
		return dec.ReasonIn(tag)
	}
	return reason
}

func (r *Report) writeUndetermined(b *strings.Builder, p *message.Printer, tag language.Tag) {
	if len(r.UndeterminedClasses) == 0 {
		return
	}
	b.WriteString(p.Sprintf("\nundetermined (fix the data or the rule, then run again; `versement explain` tells more):\n"))
	var unlisted int64
	for _, uc := range r.UndeterminedClasses {
		var reasons []string
		keys := map[string][]string{}
		said := map[string]string{} // reason → as the reader reads it
		listed := int64(0)
		for _, u := range r.Undetermined {
			if u.Class != uc.Class {
				continue
			}
			listed++
			if _, ok := keys[u.Reason]; !ok {
				reasons = append(reasons, u.Reason)
				said[u.Reason] = reasonIn(tag, u.Reason, u.dec)
			}
			keys[u.Reason] = append(keys[u.Reason], textsafe.Terminal(u.Key))
		}
		if !uc.mixed && uc.Dossiers > 1 {
			// Every one for the same reason (a rule reading a table the base lacks): one line.
			p.Fprintf(b, "  %s, all %d undetermined dossiers: %s", uc.Class, uc.Dossiers, textsafe.Terminal(reasonIn(tag, uc.Reason, uc.dec)))
			if ks := keys[uc.Reason]; len(ks) > 0 {
				p.Fprintf(b, " (%s)", examples(ks, uc.Dossiers))
			}
			b.WriteString("\n")
			continue
		}
		// The same reason for many dossiers (a NULL date) is said once, with some of their keys.
		for _, reason := range reasons {
			ks := keys[reason]
			p.Fprintf(b, "  %s: %s (%d: %s)\n", uc.Class, textsafe.Terminal(said[reason]), len(ks), examples(ks, int64(len(ks))))
		}
		unlisted += uc.Dossiers - listed
	}
	if unlisted > 0 {
		p.Fprintf(b, "  and %d more dossiers (the JSON report lists the first %d)\n", unlisted, MaxUndeterminedListed)
	}
}

func (r *Report) writeAnomalies(b *strings.Builder, p *message.Printer) {
	if len(r.Anomalies) == 0 {
		return
	}
	b.WriteString(p.Sprintf("\ndata anomalies (dates that cannot be true, or that the rule had to arbitrate; the tier is unchanged; `versement explain --key KEY` tells more):\n"))
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, a := range r.Anomalies {
		more := ""
		if a.Dossiers > int64(len(a.Keys)) {
			more = ", …"
		}
		p.Fprintf(tw, "  %s\t%s\t%d\t(%s%s)\n", a.Class, a.Code, a.Dossiers, strings.Join(a.Keys, ", "), more)
	}
	tw.Flush()
}

func (r *Report) writeSIPs(b *strings.Builder, p *message.Printer, verbose bool) {
	if r.DryRun {
		return
	}
	if r.AlreadyArchived > 0 {
		p.Fprintf(b, "\n%d dossier(s) were already archived at their tier by earlier runs: not archived again\n", r.AlreadyArchived)
	}
	if len(r.SIPs) == 0 {
		b.WriteString(p.Sprintf("\nnothing new was archived: 0 SIPs\n"))
		return
	}
	var targets []string
	recovered := 0
	for _, s := range r.SIPs {
		if s.Target != "" && !slices.Contains(targets, s.Target) {
			targets = append(targets, s.Target)
		}
		if s.Recovered {
			recovered++
		}
	}
	p.Fprintf(b, "\n%d SIP(s), %s", len(r.SIPs), bytesize.Format(r.Bytes))
	if len(targets) > 0 {
		p.Fprintf(b, " → %s", strings.Join(targets, ", "))
	}
	if recovered > 0 {
		p.Fprintf(b, " (%d left in the spool by an earlier run)", recovered)
	}
	if !verbose {
		b.WriteString(p.Sprintf("; the list is in the report (--json, --report FILE)\n"))
		return
	}
	for _, s := range r.SIPs {
		p.Fprintf(b, "\n  %s  %s %s  %d dossiers  %s  %s:%s", s.ID, s.Class, tierName(p, s.Tier), s.Dossiers, bytesize.Format(s.Bytes), s.DigestAlgorithm, s.Digest)
		if s.Target != "" {
			p.Fprintf(b, "  → %s", s.Target)
		}
		if s.Recovered {
			b.WriteString(p.Sprintf("  (left in the spool by an earlier run)"))
		}
	}
	b.WriteString("\n")
}

func (r *Report) writeRepairs(b *strings.Builder, p *message.Printer) {
	if len(r.LedgerRerecorded) > 0 {
		p.Fprintf(b, "\nledger: %d SIP(s) the state marks sent had lost their entry, recorded again: %s\n", len(r.LedgerRerecorded), strings.Join(r.LedgerRerecorded, ", "))
	}
	if len(r.LedgerLost) > 0 {
		p.Fprintf(b, "\nledger: %d SIP(s) the state marks sent were neither in the ledger nor at the target, archived again: %s\n", len(r.LedgerLost), strings.Join(r.LedgerLost, ", "))
	}
	for _, d := range r.SpoolDamaged {
		p.Fprintf(b, "\nspool: SIP %s did not match its record (%s): set aside", d.SIP, d.Why)
		if d.Kept != "" {
			p.Fprintf(b, " as %s", d.Kept)
		}
		b.WriteString(p.Sprintf(", written again by this run\n"))
	}
	if r.LedgerHead != "" {
		p.Fprintf(b, "ledger head: %s\n", r.LedgerHead)
	}
}

func tierNote(p *message.Printer, t retention.Tier, archived, dry bool) string {
	switch {
	case archived && dry:
		return p.Sprintf("would be archived")
	case archived:
		return p.Sprintf("archived")
	case t == retention.Active:
		return p.Sprintf("left in place")
	case t == retention.ToDestroy:
		return p.Sprintf("elimination proposal")
	case t == retention.Held:
		return p.Sprintf("legal hold: kept in place")
	case t == retention.Undetermined:
		return p.Sprintf("no decision: see below")
	}
	return p.Sprintf("not archived in this run")
}
