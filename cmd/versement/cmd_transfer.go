package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/bytesize"
	"github.com/versement/versement/seda"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
	"github.com/versement/versement/transfer/vitam"
)

func init() {
	register(&cli.Command{
		Name:      "transfer",
		Usage:     "send existing SIP zips to a folder, an S3 drop zone or VITAM, and record them in the ledger",
		ArgsUsage: "SIP.zip...",
		Description: "Sends each SIP once: one already recorded in the ledger, or already at the target with the\n" +
			"same SHA-256, is not sent again; one stored under the same name with other bytes is an error\n" +
			"and nothing is overwritten. Each SIP is first checked as `versement verify` checks it (layout,\n" +
			"manifest, every file's size and digest): a damaged one, or one not fully checked, is refused and\n" +
			"neither sent nor recorded; --no-verify skips the check. Targets (quoted: a bare & would end the\n" +
			"command in a shell):\n" +
			"  --target 'dir:///srv/depot'\n" +
			"  --target 's3://bucket/prefix?endpoint=https://s3.example.org&region=eu-west-3&path-style=true'\n" +
			"     (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; private CA: AWS_CA_BUNDLE)\n" +
			"  --target 'vitam+https://ingest.example.org:8443?tenant=0&admin=https://access.example.org:8444'\n" +
			"     (client certificate: VERSEMENT_VITAM_CERT, VERSEMENT_VITAM_KEY; CA: VERSEMENT_VITAM_CA)\n" +
			"Exit status: 0 all sent or already there, 1 a SIP refused as damaged or rejected by VITAM (KO),\n" +
			"2 a SIP could not be sent.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Usage: "destination URL (see above)", Required: true, EnvVars: []string{"VERSEMENT_TARGET"}},
			&cli.StringFlag{Name: "ledger", Usage: "ledger file to record transfers in (created if absent)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "send nothing, say what would be sent (VITAM: ingest in BLANK_TEST mode)"},
			&cli.StringFlag{Name: "manifest-digest", Value: "SHA-256", Usage: "algorithm of the manifest digest sent to VITAM and recorded: SHA-256 or SHA-512"},
			&cli.StringFlag{Name: "lock-mode", Usage: "S3 Object Lock mode: COMPLIANCE or GOVERNANCE (with --retain-until)"},
			&cli.StringFlag{Name: "retain-until", Usage: "S3 Object Lock retention date, YYYY-MM-DD (UTC midnight)"},
			&cli.BoolFlag{Name: "legal-hold", Usage: "set an S3 Object Lock legal hold"},
			&cli.StringFlag{Name: "profile", Usage: "profile recorded with the SIPs (metadata, tags, ledger)"},
			&cli.StringFlag{Name: "class", Usage: "class of records recorded with the SIPs"},
			&cli.StringFlag{Name: "tier", Usage: "retention tier recorded with the SIPs (intermediate, final)"},
			&cli.DurationFlag{Name: "poll-interval", Value: time.Minute, Usage: "VITAM: time between status requests"},
			&cli.DurationFlag{Name: "poll-timeout", Value: 6 * time.Hour, Usage: "VITAM: how long to wait for one ingest"},
			&cli.IntFlag{Name: "retries", Value: 4, Usage: "retries of transient failures (timeouts, resets, 5xx, SlowDown); 0 disables"},
			&cli.StringFlag{Name: "atr-dir", Usage: "VITAM: folder where each ArchiveTransferReply is saved as OPERATION.xml"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per SIP instead of text"},
			&cli.BoolFlag{Name: "no-verify", Usage: "send without checking each SIP first as versement verify does (not recommended)"},
			&cli.StringFlag{Name: "xsd-dir", Usage: "as verify --xsd-dir: also validate each manifest against the official SEDA XSDs before sending", EnvVars: []string{"VERSEMENT_XSD_DIR"}},
			&cli.StringFlag{Name: "max-expanded", Value: "64GiB", Usage: "as verify --max-expanded: a SIP with highly compressed entries past this budget is not fully checked, so not sent"},
		},
		Action: runTransfer,
	})
}

type transferResult struct {
	SIP     string            `json:"sip"`
	Outcome string            `json:"outcome"` // sent, already-there, recorded, would-send, refused, rejected, failed
	Receipt *transfer.Receipt `json:"receipt,omitempty"`
	Ledger  int64             `json:"ledger_seq,omitempty"`
	Error   string            `json:"error,omitempty"`
	// Findings are verify's first findings on a refused SIP (at most shownFindings).
	Findings []seda.Finding `json:"findings,omitempty"`
}

// shownFindings is how many of a refused SIP's findings transfer prints: enough to say what is
// wrong, and `versement verify` lists them all.
const shownFindings = 3

func runTransfer(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("transfer: name at least one SIP zip", exitError)
	}
	var retention *transfer.Retention
	if ru := c.String("retain-until"); ru != "" || c.String("lock-mode") != "" {
		if ru == "" || c.String("lock-mode") == "" {
			return cli.Exit("transfer: --lock-mode and --retain-until go together", exitError)
		}
		until, err := time.Parse("2006-01-02", ru)
		if err != nil {
			return cli.Exit(fmt.Sprintf("transfer: --retain-until %q: want YYYY-MM-DD", ru), exitError)
		}
		mode := strings.ToUpper(c.String("lock-mode"))
		if mode != "COMPLIANCE" && mode != "GOVERNANCE" {
			return cli.Exit(fmt.Sprintf("transfer: --lock-mode %q: want COMPLIANCE or GOVERNANCE", c.String("lock-mode")), exitError)
		}
		retention = &transfer.Retention{Mode: mode, Until: until}
	}
	var check *seda.VerifyOptions // nil: --no-verify
	if !c.Bool("no-verify") {
		maxExpanded, err := bytesize.Parse(c.String("max-expanded"))
		if err != nil || maxExpanded <= 0 {
			return cli.Exit(fmt.Sprintf("transfer: --max-expanded %q: want a size such as 64GiB or 500MB", c.String("max-expanded")), exitError)
		}
		check = &seda.VerifyOptions{XSDDir: c.String("xsd-dir"), MaxExpanded: maxExpanded}
	}
	retries := c.Int("retries")
	if retries <= 0 {
		retries = -1
	}
	opts := targets.Options{
		DryRun: c.Bool("dry-run"), VITAM: vitam.Options{PollInterval: c.Duration("poll-interval"), PollTimeout: c.Duration("poll-timeout")},
		Retries: retries, Logger: slog.Default(),
	}
	tg, err := targets.Open(c.Context, c.String("target"), opts)
	if err != nil {
		return cli.Exit("transfer: "+err.Error(), exitError)
	}
	defer tg.Close()
	var led *ledger.Ledger
	if p := c.String("ledger"); p != "" && !opts.DryRun {
		if led, err = ledger.Open(p); err != nil {
			return cli.Exit("transfer: "+err.Error(), exitError)
		}
		defer led.Close()
	}
	origin := transfer.Origin{Profile: c.String("profile"), Class: c.String("class"), Tier: c.String("tier")}
	out := c.App.Writer
	var refused []string
	failed, rejected := 0, 0
	for _, path := range c.Args().Slice() {
		if c.Context.Err() != nil {
			break // interrupted: stop between SIPs, the ledger is consistent
		}
		res := transferOne(c, tg, led, path, check, origin, retention)
		switch res.Outcome {
		case "failed":
			failed++
		case "rejected":
			rejected++
		case "refused":
			refused = append(refused, res.SIP)
		}
		printResult(out, res, c.Bool("json"))
	}
	switch {
	case c.Context.Err() != nil:
		return cli.Exit("transfer: interrupted", exitError)
	case failed > 0:
		return cli.Exit(fmt.Sprintf("transfer: %d of %d SIPs could not be sent", failed, c.NArg()), exitError)
	case len(refused) > 0:
		msg := fmt.Sprintf("transfer: %d of %d SIPs refused, damaged or not fully checked: %s (nothing sent or recorded for them; versement verify lists every finding)",
			len(refused), c.NArg(), strings.Join(refused, ", "))
		if rejected > 0 {
			msg += fmt.Sprintf("; %d rejected by the archive", rejected)
		}
		return cli.Exit(msg, exitFindings)
	case rejected > 0:
		return cli.Exit(fmt.Sprintf("transfer: %d of %d SIPs rejected by the archive", rejected, c.NArg()), exitFindings)
	}
	return nil
}

// transferOne sends one SIP, after checking it with check unless that is nil.
func transferOne(c *cli.Context, tg transfer.Target, led *ledger.Ledger, path string, check *seda.VerifyOptions, origin transfer.Origin, ret *transfer.Retention) transferResult {
	res := transferResult{SIP: path}
	fail := func(err error) transferResult {
		res.Outcome, res.Error = "failed", err.Error()
		if errors.Is(err, transfer.ErrRejected) {
			res.Outcome = "rejected"
		}
		return res
	}
	sip, err := transfer.InspectZip(c.Context, path, c.String("manifest-digest"))
	if err != nil {
		return fail(err)
	}
	res.SIP = sip.Name
	if check != nil {
		// What versement sends must pass versement's own audit: a SIP the archive would find
		// damaged is refused here, before anything is sent or recorded.
		rep, err := seda.Verify(c.Context, path, *check)
		if err != nil {
			return fail(err)
		}
		if findings := refusal(rep); findings != nil {
			res.Outcome, res.Findings = "refused", findings
			res.Error = refusalText(rep, findings)
			return res
		}
	}
	sip.Origin, sip.Retention, sip.LegalHold = origin, ret, c.Bool("legal-hold")
	var r transfer.Receipt
	if led != nil {
		e, skipped, err := led.Send(c.Context, tg, sip, ledger.Batch{})
		r, res.Ledger = e.Receipt, e.Seq
		if skipped {
			res.Outcome, res.Receipt = "recorded", &r
			return res
		}
		res.Receipt = &r
		saveATR(c, r)
		if err != nil {
			return fail(err)
		}
	} else {
		r, err = tg.Put(c.Context, sip)
		res.Receipt = &r
		saveATR(c, r)
		if err != nil {
			return fail(err)
		}
	}
	switch {
	case r.DryRun && r.AlreadyThere:
		res.Outcome = "already-there"
	case r.DryRun:
		res.Outcome = "would-send"
	case r.AlreadyThere:
		res.Outcome = "already-there"
	default:
		res.Outcome = "sent"
	}
	return res
}

// refusal is what makes rep refuse its SIP, its first blocking findings; nil when it may be sent.
func refusal(rep *seda.Verification) []seda.Finding {
	if rep.OK() && rep.Complete() {
		return nil
	}
	b := rep.Blocking()
	return b[:min(len(b), shownFindings)]
}

func refusalText(rep *seda.Verification, shown []seda.Finding) string {
	var b strings.Builder
	total := 0
	if rep.OK() {
		b.WriteString("not fully checked by verify, not sent: ")
		for _, f := range rep.Findings {
			if f.Code == seda.CodeNotExpanded {
				total++
			}
		}
	} else {
		b.WriteString("damaged, not sent: ")
		for _, f := range rep.Findings {
			if f.Severity == seda.SevError {
				total++
			}
		}
	}
	for i, f := range shown {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Code)
		if f.Where != "" {
			b.WriteString(" " + f.Where)
		}
		b.WriteString(": " + f.Message)
	}
	if total > len(shown) {
		fmt.Fprintf(&b, " (and %d more)", total-len(shown))
	}
	return b.String()
}

func saveATR(c *cli.Context, r transfer.Receipt) {
	dir := c.String("atr-dir")
	if dir == "" || len(r.ATR) == 0 || r.Operation == "" || strings.ContainsAny(r.Operation, `/\.`) {
		return
	}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, r.Operation+".xml"), r.ATR, 0o644)
	}
	if err != nil {
		// The ATR is the archive's receipt: say so when it is not kept, whatever the reason.
		slog.Error("transfer: could not save the ATR", "operation", r.Operation, "err", err)
	}
}

func printResult(w io.Writer, res transferResult, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(w, string(b))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-13s %s", res.Outcome, res.SIP)
	if r := res.Receipt; r != nil {
		if r.Location != "" {
			fmt.Fprintf(&b, " -> %s", r.Location)
		}
		if r.SHA256 != "" {
			fmt.Fprintf(&b, " sha256 %s %d bytes", r.SHA256, r.Size)
		}
		if r.VersionID != "" {
			fmt.Fprintf(&b, " version %s", r.VersionID)
		}
		if r.Operation != "" {
			fmt.Fprintf(&b, " operation %s", r.Operation)
		}
		if r.ReplyCode != "" {
			fmt.Fprintf(&b, " %s", r.ReplyCode)
		}
	}
	if res.Ledger > 0 {
		fmt.Fprintf(&b, " (ledger entry %d)", res.Ledger)
	}
	if res.Error != "" {
		fmt.Fprintf(&b, ": %s", res.Error)
	}
	fmt.Fprintln(w, b.String())
}
