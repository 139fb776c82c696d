package server_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/versement/versement/server"
)

// The serve verb builds a Config from the configuration file and the environment (never a
// secret from a flag), gives its Consultation, and serves until the context ends.
func ExampleNew() {
	ctx := context.Background()
	oidc, err := server.OIDCFromEnv(os.Getenv)
	if err != nil {
		slog.Error("OIDC configuration", "err", err)
		return
	}
	cfg := server.Config{Addr: "127.0.0.1:8080", OIDC: oidc}
	if oidc == nil {
		cfg.Demo = &server.DemoConfig{Groups: []string{"archives"}}
	}
	var c server.Consultation = &fakeConsultation{} // the consult package's implementation
	s, err := server.New(ctx, cfg, c, slog.Default())
	if err != nil {
		slog.Error("serve", "err", err)
		return
	}
	_ = s // s.ListenAndServe(ctx) serves until ctx is done
}
