package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/jobs"
	"github.com/versement/versement/platform"
	"github.com/versement/versement/server"
)

// serveAPIFlags are serve's flags of the deposit API.
func serveAPIFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "platform", Usage: "the platform file: its establishments, their API accounts, profiles, targets and state (docs/platform.md)", EnvVars: []string{"VERSEMENT_PLATFORM"}},
		&cli.BoolFlag{Name: "api", Usage: "serve the deposit API (/api/v1/, docs/api.md) of every establishment of --platform; tokens verified as VERSEMENT_API_ISSUER and VERSEMENT_API_AUDIENCE say, client certificates against VERSEMENT_API_CLIENT_CA_FILE (with --cert and --key)"},
		&cli.StringFlag{Name: "xsd-dir", Usage: "with --api: also check each submitted SIP against the official SEDA XSDs of this folder"},
	}, queueFlags()...)
}

// serveAPI is what --api adds to the server: each establishment's deposits, the accounts that
// act for it, and where a closed transaction goes.
type serveAPI struct {
	cfg      *server.APIConfig
	pf       *platform.Config
	services depositServices
	queue    *jobs.Queue // nil: closes are processed by this process
}

func (a *serveAPI) Close() {
	a.services.Release()
	if a.queue != nil {
		a.queue.Close()
	}
}

// openServeAPI opens the deposit services of the platform's establishments. With --queue, a
// close is enqueued for the workers (`versement worker --platform`), which may run on other
// machines; without, this process builds and sends the deposit itself, in the background.
func openServeAPI(c *cli.Context) (*serveAPI, error) {
	if c.String("platform") == "" {
		return nil, errors.New("--api needs --platform: the platform file says which establishments deposit, with which accounts")
	}
	pf, err := platform.Load(c.String("platform"))
	if err != nil {
		return nil, err
	}
	// How applications authenticate is checked first: a misconfigured server creates nothing.
	clients := map[string]string{}
	for _, e := range pf.Establishments() {
		for _, cl := range e.APIClients {
			if cl.ClientID != "" {
				clients[cl.ClientID] = e.ID
			}
		}
	}
	cfg := &server.APIConfig{Establishments: map[string]server.Deposits{}}
	if cfg.Tokens, err = server.APITokensFromEnv(os.Getenv, clients); err != nil {
		return nil, err
	}
	if cfg.MTLS, err = server.APIMTLSFromEnv(os.Getenv, nil); err != nil {
		return nil, err
	}
	if cfg.MTLS != nil {
		// The platform names a certificate by its fingerprint or its subject CN.
		cfg.MTLS.CertificateEstablishment = func(cert *x509.Certificate) (string, bool) {
			if e, ok := pf.ByCertificate(cert); ok {
				return e.ID, true
			}
			return "", false
		}
	}
	if cfg.Tokens == nil && cfg.MTLS == nil {
		return nil, fmt.Errorf("--api: no way for an application to authenticate: set %s and %s (OAuth2 client-credentials tokens), or %s (client certificates, with --cert and --key)",
			server.EnvAPIIssuer, server.EnvAPIAudience, server.EnvAPIClientCAFile)
	}
	a := &serveAPI{pf: pf}
	var enqueue func(ctx context.Context, est, tx string) error
	if c.IsSet("queue") {
		driver, dsn, err := queueFrom(c, pf.StateRoot)
		if err != nil {
			return nil, err
		}
		// No handlers: this process enqueues, the workers work.
		if a.queue, err = jobs.Open(c.Context, jobs.Config{Driver: driver, DSN: dsn, Log: slog.Default().With("component", "queue")}); err != nil {
			return nil, err
		}
		if driver == jobs.SQLite {
			if err := a.queue.Migrate(c.Context); err != nil {
				a.queue.Close()
				return nil, err
			}
		}
		enqueue = a.queue.EnqueueDeposit
	}
	var failed map[string]error
	a.services, failed = openDeposits(c.Context, pf, enqueue, c.String("xsd-dir"), slog.Default().With("component", "deposit"))
	if len(a.services) == 0 {
		a.Close()
		return nil, fmt.Errorf("no establishment's deposits could be opened: %w", errors.Join(slices.Collect(maps.Values(failed))...))
	}
	for id, s := range a.services {
		cfg.Establishments[id] = s
	}
	for id, err := range failed {
		cfg.Establishments[id] = unavailableDeposits{err}
	}
	a.cfg = cfg
	return a, nil
}
