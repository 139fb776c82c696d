package platform

import (
	"github.com/versement/versement/nightly"
)

// Nightly is the platform's jobs as one scheduler runs them: every establishment's, their names
// qualified by the establishment (univ-a.apogee-nightly), each with its establishment, its lock
// and last runs in the establishment's state folder (STATE/schedule), and its runs' state and
// ledger the establishment's unless the job names others.
func (c *Config) Nightly() *nightly.Config {
	n := &nightly.Config{File: c.File, Timezone: c.Timezone, StateDir: c.StateRoot, Establishments: true}
	for _, e := range c.establishments {
		n.Jobs = append(n.Jobs, e.Jobs...)
	}
	return n
}

// LoadNightly reads a platform file as a scheduler's configuration: what `versement schedule
// --platform` starts with and reloads on SIGHUP.
func LoadNightly(path string) (*nightly.Config, error) {
	c, err := Load(path)
	if err != nil {
		return nil, err
	}
	return c.Nightly(), nil
}

// JobEstablishment returns the establishment a job of Nightly belongs to.
func (c *Config) JobEstablishment(j *nightly.Job) (*Establishment, bool) {
	return c.Establishment(j.Establishment)
}
