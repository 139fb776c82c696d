package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/bytesize"
	"github.com/versement/versement/seda"
)

func init() {
	register(&cli.Command{
		Name:      "verify",
		Usage:     "check SEDA packages (zip or unpacked folder): layout, manifest, every file's size and digest",
		ArgsUsage: "PATH...",
		Description: "Verifies SEDA 2.1, 2.2 and 2.3 SIPs from any producer (versement, VITAM, others) without\n" +
			"unpacking them: one manifest and only Content/ beside it, no absolute or .. paths, no links, no\n" +
			"duplicate names; a well-formed SEDA manifest with unique ids and resolved references; every\n" +
			"BinaryDataObject's file present with the declared size and digest (MD5, SHA-1, SHA-256, SHA-384,\n" +
			"SHA-512; hex or base64); no unreferenced file. --xsd-dir adds full validation against the\n" +
			"official XSDs. --ledger FILE checks a transfer ledger's or an access log's hash chain and its\n" +
			"head (ledger.head or access.head beside it, and --head COUNT:HASH), and for a transfer ledger\n" +
			"with --target URL that every SIP it lists is there with its recorded checksum and every object\n" +
			"there is in it. Exit status: 0 everything holds, 1 a package or the ledger is damaged, 2\n" +
			"something could not be read or the call was wrong.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON document (reports and errors) instead of text"},
			&cli.StringFlag{Name: "xsd-dir", Usage: "folder of the official SEDA XSDs (seda-2.N/seda-2.N-main.xsd): validate manifests against them", EnvVars: []string{"VERSEMENT_XSD_DIR"}},
			&cli.Int64Flag{Name: "max-manifest", Value: 256 << 20, Usage: "refuse manifests larger than this many bytes (bounds memory on untrusted packages)"},
			&cli.Float64Flag{Name: "max-ratio", Value: 200, Usage: "zip entries expanding more than this many times count against --max-expanded"},
			&cli.StringFlag{Name: "max-expanded", Value: "64GiB", Usage: "expand at most this much of highly compressed entries in all (zip bombs); past it, entries are not checked"},
			&cli.IntFlag{Name: "workers", Usage: "files hashed in parallel (default: the number of CPUs)"},
			&cli.StringFlag{Name: "ledger", Usage: "also check this transfer ledger or access log (told apart by its first entry): its hash chain, entry by entry, and its head"},
			&cli.StringFlag{Name: "target", Usage: "with --ledger (a transfer ledger): check that every SIP the ledger lists is at this target URL with its recorded checksum, and that the ledger lists every object there"},
			&cli.StringFlag{Name: "head", Usage: "with --ledger: a head published elsewhere (COUNT:HASH or HASH, from a run report or a notification) that the ledger must still hold"},
		},
		Action: verifyAction,
	})
}

// verifyOutcome is one PATH's result: a report, or the reason it could not be read.
type verifyOutcome struct {
	Path   string             `json:"path"`
	Report *seda.Verification `json:"report,omitempty"`
	Error  string             `json:"error,omitempty"`
}

func verifyAction(c *cli.Context) error {
	ledgerPath := c.String("ledger")
	if c.String("target") != "" && ledgerPath == "" {
		return cli.Exit("verify: --target checks the SIPs a ledger lists: give --ledger FILE too", exitError)
	}
	if c.String("head") != "" && ledgerPath == "" {
		return cli.Exit("verify: --head checks a ledger: give --ledger FILE too", exitError)
	}
	if c.NArg() == 0 && ledgerPath == "" {
		return cli.Exit("verify: give at least one PATH (a SIP zip or an unpacked SIP folder), or --ledger FILE", exitError)
	}
	var ledgerErr error
	if ledgerPath != "" {
		ledgerErr = ledgerExit(c.Context, c.App.Writer, ledgerCheck{Path: ledgerPath, Target: c.String("target"), Head: c.String("head"), JSON: c.Bool("json")})
		if c.NArg() == 0 {
			return ledgerErr
		}
	}
	return worstExit(ledgerErr, verifyPackages(c))
}

// worstExit keeps the error with the higher exit code: could-not-read beats findings beats success.
func worstExit(a, b error) error {
	if codeOf(a) >= codeOf(b) {
		return a
	}
	return b
}

// verifyMemoryLimit is the soft memory limit verify sets for itself (unless GOMEMLIMIT is set):
// what it keeps of a manifest is proportional to the manifest, and without a limit Go lets the
// heap grow to twice that before collecting. With it, verify peaks at 195–240 MB on a manifest at
// the 256 MiB limit (360,000–500,000 objects; bench/verify-memory.sh, bench/README.md).
const verifyMemoryLimit = 256 << 20

func verifyPackages(c *cli.Context) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(verifyMemoryLimit)
	}
	maxExpanded, err := bytesize.Parse(c.String("max-expanded"))
	if err != nil || maxExpanded <= 0 {
		return cli.Exit(fmt.Sprintf("verify: --max-expanded %q: want a size such as 64GiB or 500MB", c.String("max-expanded")), exitError)
	}
	opts := seda.VerifyOptions{
		XSDDir:           c.String("xsd-dir"),
		MaxManifestBytes: c.Int64("max-manifest"),
		MaxRatio:         c.Float64("max-ratio"),
		MaxExpanded:      maxExpanded,
		Workers:          c.Int("workers"),
	}
	outcomes, err := verifyPaths(c.Context, c.Args().Slice(), opts)
	if err != nil {
		return cli.Exit("verify: "+err.Error(), exitError)
	}
	if c.Bool("json") {
		if err := printVerifyJSON(c.App.Writer, outcomes); err != nil {
			return cli.Exit("verify: "+err.Error(), exitError)
		}
	} else {
		printVerifyText(c.App.Writer, outcomes)
	}
	return verifyExit(outcomes)
}

// verifyPaths verifies each path; a path that cannot be read is an outcome, not an error, so that
// the others are still checked. The error is for a cancelled context.
func verifyPaths(ctx context.Context, paths []string, opts seda.VerifyOptions) ([]verifyOutcome, error) {
	var out []verifyOutcome
	for _, p := range paths {
		r, err := seda.Verify(ctx, p, opts)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o := verifyOutcome{Path: p, Report: r}
		if err != nil {
			o.Error = err.Error()
		}
		out = append(out, o)
	}
	return out, nil
}

// verifyExit: 2 if anything could not be read, else 1 if a package is damaged or not fully
// checked (an auditor must not read 0 for a package nobody read whole), else 0.
func verifyExit(outcomes []verifyOutcome) error {
	damaged, unreadable, partial := 0, 0, 0
	for _, o := range outcomes {
		switch {
		case o.Error != "":
			unreadable++
		case !o.Report.OK():
			damaged++
		case !o.Report.Complete():
			partial++
		}
	}
	switch {
	case unreadable > 0:
		return cli.Exit(fmt.Sprintf("verify: %d of %d could not be read", unreadable, len(outcomes)), exitError)
	case damaged > 0:
		return cli.Exit(fmt.Sprintf("verify: %d of %d packages damaged", damaged, len(outcomes)), exitFindings)
	case partial > 0:
		return cli.Exit(fmt.Sprintf("verify: %d of %d packages not fully checked (unsupported, or entries past --max-expanded)", partial, len(outcomes)), exitFindings)
	}
	return nil
}

func printVerifyJSON(w io.Writer, outcomes []verifyOutcome) error {
	ok := true
	for _, o := range outcomes {
		ok = ok && o.Error == "" && o.Report.OK()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK       bool            `json:"ok"`
		Packages []verifyOutcome `json:"packages"`
	}{ok, outcomes})
}

func printVerifyText(w io.Writer, outcomes []verifyOutcome) {
	for _, o := range outcomes {
		if o.Error != "" {
			fmt.Fprintf(w, "%s: UNREADABLE: %s\n", o.Path, o.Error)
			continue
		}
		r := o.Report
		errs, warns := 0, 0
		for _, f := range r.Findings {
			if f.Severity == seda.SevError {
				errs++
			} else {
				warns++
			}
		}
		state := "OK"
		switch {
		case errs > 0:
			state = fmt.Sprintf("DAMAGED (%d error%s)", errs, verifyPlural(errs))
		case r.Unsupported != "":
			state = "UNSUPPORTED: " + r.Unsupported
		case !r.Complete():
			state = "NOT FULLY CHECKED (entries past --max-expanded were not expanded)"
		}
		fmt.Fprintf(w, "%s: %s\n", o.Path, state)
		var facts []string
		if r.Version != "" {
			facts = append(facts, "SEDA "+string(r.Version))
		}
		if r.MessageIdentifier != "" {
			facts = append(facts, "message "+r.MessageIdentifier)
		}
		facts = append(facts, fmt.Sprintf("%d/%d objects verified (%s)", r.ObjectsVerified, r.Objects, bytesize.Format(r.PayloadBytes)),
			fmt.Sprintf("%d units", r.Units), "XSD "+r.XSD)
		fmt.Fprintf(w, "  %s\n", strings.Join(facts, ", "))
		if r.ManifestSHA512 != "" {
			fmt.Fprintf(w, "  %s SHA-512 %s\n", r.Manifest, r.ManifestSHA512)
		}
		for _, f := range r.Findings {
			where := ""
			if f.Where != "" {
				where = " " + f.Where
			}
			fmt.Fprintf(w, "  %-7s %s%s: %s\n", f.Severity, f.Code, where, f.Message)
		}
		if warns > 0 && errs == 0 && r.Complete() {
			fmt.Fprintf(w, "  (%d warning%s: the package holds, but read them)\n", warns, verifyPlural(warns))
		}
	}
}

func verifyPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
