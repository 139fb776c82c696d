package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/platform"
)

func init() {
	register(&cli.Command{
		Name:  "contracts",
		Usage: "what VITAM must know of a profile or an establishment: its ingest contract, access contracts and agencies",
		Subcommands: []*cli.Command{{
			Name:  "export",
			Usage: "write the ingest contract, access contracts and agencies in VITAM's import formats (the rules: versement rules export)",
			UsageText: "versement contracts export --profile apogee [--dir D]\n" +
				"versement contracts export --platform platform.yaml --establishment univ-a [--dir D]",
			Description: "Writes, into --dir, ingest-contracts.json and access-contracts.json (the bodies of\n" +
				"POST /admin-external/v1/ingestcontracts and /accesscontracts) and agencies.csv (for\n" +
				"/agencies: VITAM replaces the tenant's whole referential with it, so merge these lines into\n" +
				"yours). The ingest contract's Identifier is the profile's seda.archival_agreement, which\n" +
				"every SIP names; the access contracts (AC-PROFILE-CONSULTATION for the producing service,\n" +
				"AC-PROFILE-ARCHIVES for the archives service) read the profile's originating agency only,\n" +
				"never write, and have VITAM log every access: name one in the target URL's\n" +
				"access-contract= to consult from VITAM.\n" +
				"With --platform and --establishment: that establishment's contracts, with the identifiers its\n" +
				"SIPs use whatever the profile (its seda.archival_agreement and originating agency, its\n" +
				"vitam.access_contracts, by default AC-ID-CONSULTATION and AC-ID-ARCHIVES; docs/platform.md).\n" +
				"The rule referential, imported beside them, is `versement rules export`.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "profile", Usage: "a built-in profile (apogee, harpege) or a profile file"},
				&cli.StringFlag{Name: "platform", Usage: "the platform file (YAML), with --establishment", EnvVars: []string{"VERSEMENT_PLATFORM"}},
				&cli.StringFlag{Name: "establishment", Usage: "the id of an establishment of --platform"},
				&cli.StringFlag{Name: "dir", Value: ".", Usage: "folder to write the three files into"},
			},
			Action: contractsExportAction,
		}},
	})
}

func contractsExportAction(c *cli.Context) error {
	if c.String("establishment") != "" || c.String("platform") != "" {
		return contractsExportEstablishment(c)
	}
	if c.String("profile") == "" {
		return cli.Exit("contracts export: give --profile P, or --platform FILE --establishment ID", exitError)
	}
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	set, err := contracts.For(p)
	if err == nil {
		err = writeContracts(set, c.String("dir"))
	}
	if err != nil {
		return cli.Exit("contracts export: "+err.Error(), exitError)
	}
	fmt.Fprintf(c.App.Writer, "ingest contract %s, access contracts %s and %s, written into %s\n", p.SEDA.ArchivalAgreement,
		contracts.AccessID(p, "CONSULTATION"), contracts.AccessID(p, "ARCHIVES"), c.String("dir"))
	return nil
}

// contractsExportEstablishment writes one establishment's contracts: nothing of another's is
// read or written, and the identifiers are those its SIPs name.
func contractsExportEstablishment(c *cli.Context) error {
	path, id := c.String("platform"), c.String("establishment")
	switch {
	case c.String("profile") != "":
		return cli.Exit("contracts export: --profile or --establishment, not both: an establishment's contracts cover all its profiles", exitError)
	case path == "":
		return cli.Exit("contracts export: --establishment needs the platform file (--platform FILE)", exitError)
	case id == "":
		return cli.Exit("contracts export: --platform needs the establishment (--establishment ID)", exitError)
	}
	pc, err := platform.Load(path)
	if err != nil {
		return cli.Exit(err.Error(), exitError)
	}
	e, ok := pc.Establishment(id)
	if !ok {
		return cli.Exit(fmt.Sprintf("contracts export: no establishment %q in %s (establishments: %s)", id, path, strings.Join(pc.IDs(), ", ")), exitError)
	}
	set, err := e.Contracts()
	if err == nil {
		err = writeContracts(set, c.String("dir"))
	}
	if err != nil {
		return cli.Exit("contracts export: "+err.Error(), exitError)
	}
	fmt.Fprintf(c.App.Writer, "establishment %s: ingest contract %s, access contracts %s and %s, written into %s\n", e.ID,
		e.SEDA.ArchivalAgreement, e.VITAM.ConsultationContract, e.VITAM.ArchivesContract, c.String("dir"))
	return nil
}

func writeContracts(set contracts.Set, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		"ingest-contracts.json": set.WriteIngest, "access-contracts.json": set.WriteAccess, "agencies.csv": set.WriteAgencies,
	} {
		if err := atomicfile.Write(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}
