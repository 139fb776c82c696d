package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/versement/versement/consult"
	"github.com/versement/versement/roles"
	"github.com/versement/versement/server"
)

func init() {
	register(&cli.Command{
		Name:  "serve",
		Usage: "the consultation web pages: search archived dossiers, read their fiche, with sign-on, roles, motives and the access log",
		Description: "Serves the pages on --addr. Sign-on: the establishment's OpenID Connect provider (--oidc: its\n" +
			"issuer, client id and secret from VERSEMENT_OIDC_ISSUER, VERSEMENT_OIDC_CLIENT_ID and\n" +
			"VERSEMENT_OIDC_CLIENT_SECRET or VERSEMENT_OIDC_CLIENT_SECRET_FILE), a trusted reverse proxy's\n" +
			"headers (--proxy-user-header, --trusted-proxy), or --demo: a local user for a demonstration,\n" +
			"refused unless --addr is a loopback address. TLS with --cert and --key; plain HTTP only on\n" +
			"loopback. The roles file decides who may see what; every search, view, download and refusal\n" +
			"goes to the access log.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listening address host:port"},
			&cli.StringFlag{Name: "cert", Usage: "TLS certificate chain (PEM)"},
			&cli.StringFlag{Name: "key", Usage: "TLS private key (PEM)"},
			&cli.StringFlag{Name: "public-url", Usage: "the address browsers use, when behind a reverse proxy (https://archives.univ.example/)"},
			&cli.BoolFlag{Name: "oidc", Usage: "sign on through the OpenID Connect provider the VERSEMENT_OIDC_* variables name"},
			&cli.StringFlag{Name: "proxy-user-header", Usage: "sign on by this header of a trusted reverse proxy (CAS, Shibboleth: REMOTE_USER)"},
			&cli.StringFlag{Name: "proxy-groups-header", Usage: "the proxy's header of the user's groups (separated by ';')"},
			&cli.StringSliceFlag{Name: "trusted-proxy", Usage: "address or CIDR of a reverse proxy whose headers are believed (repeat)"},
			&cli.BoolFlag{Name: "demo", Usage: "a local user 'demo' who may consult everything (loopback only); without --roles, an embedded demo roles file"},
		}, consultFlags()...),
		Action: serveAction,
	})
}

func serveAction(c *cli.Context) error {
	cfg := server.Config{Addr: c.String("addr"), CertFile: c.String("cert"), KeyFile: c.String("key"), PublicURL: c.String("public-url"), Lang: readerLangFlag(c)}
	if c.Bool("demo") {
		cfg.Demo = &server.DemoConfig{User: "demo", Groups: []string{"demo"}}
	}
	if c.Bool("oidc") {
		o, err := server.OIDCFromEnv(os.Getenv)
		if err != nil {
			return cli.Exit("serve: "+err.Error(), exitError)
		}
		cfg.OIDC = o
	}
	if h := c.String("proxy-user-header"); h != "" {
		p := &server.ProxyConfig{UserHeader: h, GroupsHeader: c.String("proxy-groups-header")}
		for _, s := range c.StringSlice("trusted-proxy") {
			pre, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return cli.Exit(fmt.Sprintf("serve: --trusted-proxy %q: want an address or a CIDR (10.0.0.0/8)", s), exitError)
				}
				pre = netip.PrefixFrom(a, a.BitLen())
			}
			p.TrustedProxies = append(p.TrustedProxies, pre)
		}
		if len(p.TrustedProxies) == 0 {
			return cli.Exit("serve: --proxy-user-header needs --trusted-proxy: the header is believed only from the proxy", exitError)
		}
		cfg.Proxy = p
	}
	var policy *roles.Policy
	if c.Bool("demo") && c.String("roles") == "" {
		p, err := roles.Parse("demo roles", []byte(demoRoles))
		if err != nil {
			return cli.Exit("serve: "+err.Error(), exitError)
		}
		policy = p
	}
	env, err := openService(c, policy)
	if err != nil {
		return err
	}
	n, err := env.svc.Index.Count(c.Context)
	if err != nil {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	defer env.Close()
	s, err := server.New(c.Context, cfg, consult.Web{Service: env.svc, Lang: env.tag}, slog.Default())
	if err != nil {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	scheme := "http"
	if cfg.CertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(c.App.Writer, "serving the consultation of %s on %s://%s/ (index: %d dossier(s)); Ctrl-C stops\n", c.String("state"), scheme, cfg.Addr, n)
	if err := s.ListenAndServe(c.Context); err != nil && !strings.Contains(err.Error(), "Server closed") {
		return cli.Exit("serve: "+err.Error(), exitError)
	}
	return nil
}

// demoRoles is the roles file of --demo without --roles: the demo user is the archives service,
// who may consult every tier and read the access log.
const demoRoles = `roles:
  - name: demo
    groups: [demo]
    archives_service: true
    access_log: true
    consult:
      - profile: "*"
        tiers: [intermediate, final]
`
