package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/internal/bytesize"

	"github.com/versement/versement/index"
	"github.com/versement/versement/pipeline"
	"github.com/versement/versement/profiles"
	"github.com/versement/versement/sip"
	"github.com/versement/versement/transfer"
	"github.com/versement/versement/transfer/dir"
	"github.com/versement/versement/transfer/ledger"
	"github.com/versement/versement/transfer/targets"
)

func init() {
	register(&cli.Command{
		Name:  "index",
		Usage: "the consultation index: where each archived dossier is, by its identifiers and names",
		Subcommands: []*cli.Command{{
			Name:  "rebuild",
			Usage: "rebuild the index from the SIPs at a target alone (their manifests)",
			Description: "Lists the SIPs of --profile at --target (dir:// or s3://), reads each one's manifest (the\n" +
				"zip's directory and manifest.xml only: on S3, range requests) and puts every dossier it holds\n" +
				"in the index: its identifiers, its person, its dates and rules, the SIP and its objects. An\n" +
				"index lost with a machine is recovered this way; running it again changes nothing. A dossier\n" +
				"archived again later (intermediate, then final) points to the SIP listed last in name order\n" +
				"unless the ledger (--ledger, default STATE/ledger.jsonl when present) says which was sent last.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "profile", Required: true, Usage: "a built-in profile (apogee, harpege) or a profile file: which SIPs are its, and its schedule for the end dates"},
				&cli.StringFlag{Name: "target", Required: true, Usage: "where the SIPs are: dir://PATH or s3://BUCKET/PREFIX"},
				&cli.StringFlag{Name: "state", Value: "versement-state", Usage: "state folder: the index is STATE/index.db"},
				&cli.StringFlag{Name: "index", Usage: "the index file; default STATE/index.db"},
				&cli.StringFlag{Name: "ledger", Usage: "the transfer ledger giving each SIP's SHA-256 (dir:// and S3 listings do not); default STATE/ledger.jsonl when it exists"},
			},
			Action: indexRebuildAction,
		}},
	})
}

// indexRebuildOptions are `versement index rebuild`'s.
type indexRebuildOptions struct {
	Profile *profiles.Profile
	Target  string
	Index   string
	Ledger  string
}

// indexRebuildResult is what a rebuild did.
type indexRebuildResult struct {
	SIPs, Skipped, Dossiers int
	Bytes, Size             int64 // bytes fetched from the target, and the SIPs' total size
	Took                    time.Duration
}

func indexRebuildAction(c *cli.Context) error {
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	path := c.String("index")
	if path == "" {
		path = pipeline.DefaultIndex(c.String("state"))
	}
	lp := c.String("ledger")
	if lp == "" {
		if d := pipeline.DefaultLedger(c.String("state")); fileExists(d) {
			lp = d
		}
	}
	res, err := runIndexRebuild(c.Context, indexRebuildOptions{Profile: p, Target: dir.AbsURL(c.String("target")), Index: path, Ledger: lp})
	if err != nil {
		return cli.Exit("index rebuild: "+err.Error(), exitError)
	}
	fmt.Fprintf(c.App.Writer, "%d dossier(s) from %d SIP(s) of %s at %s indexed in %s (%s read of %s stored); %d other object(s) skipped\n",
		res.Dossiers, res.SIPs, p.Name, c.String("target"), path, bytesize.Format(res.Bytes), bytesize.Format(res.Size), res.Skipped)
	return nil
}

func runIndexRebuild(ctx context.Context, opts indexRebuildOptions) (indexRebuildResult, error) {
	start := time.Now()
	var res indexRebuildResult
	t, err := targets.Open(ctx, opts.Target, targets.Options{})
	if err != nil {
		return res, err
	}
	defer t.Close()
	op, ok := transfer.As[transfer.Opener](t)
	if !ok {
		return res, fmt.Errorf("%s cannot be read back SIP by SIP (VITAM: consult through its access API)", t)
	}
	st, err := index.Open(ctx, opts.Index)
	if err != nil {
		return res, err
	}
	defer st.Close()
	var classes []string
	for _, c := range opts.Profile.Classes {
		classes = append(classes, c.Name)
	}
	ends := pipeline.RuleEnds(opts.Profile)
	// The SHA-256 of each SIP, which the fiche shows: the ledger recorded it when it was sent.
	digests := map[string]string{}
	if opts.Ledger != "" {
		if _, err := ledger.Read(opts.Ledger, func(e ledger.Entry) {
			if e.Done() {
				digests[e.SIP] = e.SHA256
			}
		}); err != nil {
			return res, err
		}
	}
	err = t.List(ctx, func(o transfer.Object) error {
		class, tier, ok := sip.ParseID(o.Name, opts.Profile.Name, classes)
		if !ok || !strings.HasSuffix(o.Name, ".zip") {
			res.Skipped++
			return nil
		}
		b, err := op.Open(ctx, o.Name)
		if err != nil {
			return err
		}
		defer b.Close()
		r, err := sip.Open(ctx, b, b.Size())
		if err != nil {
			return fmt.Errorf("SIP %s: %w", o.Name, err)
		}
		w := index.Where{Profile: opts.Profile.Name, Class: class, Tier: string(tier), SIP: o.Name, SIPDigest: cmp.Or(o.SHA256, digests[o.Name]),
			Target: t.String(), Archived: o.ModTime, Ends: ends}
		n := 0
		err = index.PutAll(ctx, st, func(fn func(index.Entry) error) error {
			return index.FromSIP(ctx, r, w, func(e index.Entry) error { n++; return fn(e) })
		})
		if err != nil {
			return fmt.Errorf("SIP %s: %w", o.Name, err)
		}
		res.SIPs++
		res.Dossiers += n
		res.Bytes += b.Stats().Bytes
		res.Size += b.Size()
		return nil
	})
	res.Took = time.Since(start)
	return res, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
