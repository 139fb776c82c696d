package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/contracts"
	"github.com/versement/versement/internal/atomicfile"
	"github.com/versement/versement/profiles"
)

func init() {
	register(&cli.Command{
		Name:  "contracts",
		Usage: "what VITAM must know of a profile: its ingest contract, access contracts and agencies",
		Subcommands: []*cli.Command{{
			Name:  "export",
			Usage: "write the profile's contracts and agencies in VITAM's import formats",
			Description: "Writes, into --dir, ingest-contracts.json and access-contracts.json (the bodies of\n" +
				"POST /admin-external/v1/ingestcontracts and /accesscontracts) and agencies.csv (for\n" +
				"/agencies: VITAM replaces the tenant's whole referential with it, so merge these lines into\n" +
				"yours). The ingest contract's Identifier is the profile's seda.archival_agreement, which\n" +
				"every SIP names; the access contracts (AC-PROFILE-CONSULTATION for the producing service,\n" +
				"AC-PROFILE-ARCHIVES for the archives service) read the profile's originating agency only,\n" +
				"never write, and have VITAM log every access: name one in the target URL's\n" +
				"access-contract= to consult from VITAM. The rule referential is `versement rules export`.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "profile", Required: true, Usage: "a built-in profile (apogee, harpege) or a profile file"},
				&cli.StringFlag{Name: "dir", Value: ".", Usage: "folder to write the three files into"},
			},
			Action: contractsExportAction,
		}},
	})
}

func contractsExportAction(c *cli.Context) error {
	p, err := loadProfile(c)
	if err != nil {
		return err
	}
	if err := runContractsExport(p, c.String("dir")); err != nil {
		return cli.Exit("contracts export: "+err.Error(), exitError)
	}
	fmt.Fprintf(c.App.Writer, "ingest contract %s, access contracts %s and %s, written into %s\n", p.SEDA.ArchivalAgreement,
		contracts.AccessID(p, "CONSULTATION"), contracts.AccessID(p, "ARCHIVES"), c.String("dir"))
	return nil
}

func runContractsExport(p *profiles.Profile, dir string) error {
	set, err := contracts.For(p)
	if err != nil {
		return err
	}
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
