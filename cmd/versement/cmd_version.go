package main

import (
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "version",
		Usage: "print the version of versement and of the Go toolchain that built it",
		Action: func(c *cli.Context) error {
			version, goVersion := "(devel)", "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVersion = bi.GoVersion
				if bi.Main.Version != "" {
					version = bi.Main.Version
				}
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						version += " " + s.Value
					}
				}
			}
			_, err := fmt.Fprintf(c.App.Writer, "versement %s (%s)\n", version, goVersion)
			return err
		},
	})
}
