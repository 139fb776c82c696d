package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// apiAudience is the aud the provider puts in the API's access tokens.
const apiAudience = "versement-api"

// apiClients are the provider's API accounts: client id → the audience of its tokens.
var apiClients = map[string]string{
	"app-a":        apiAudience,
	"app-b":        apiAudience,
	"app-stranger": apiAudience,       // a valid token, but no establishment maps it
	"app-other":    "another-service", // a token for someone else's API
}

// apiClientEstablishment is the server's mapping of clients to establishments.
func apiClientEstablishment(client string) (string, bool) {
	est, ok := map[string]string{"app-a": "univ-a", "app-b": "univ-b"}[client]
	return est, ok
}

// ccStorage is zitadel's example storage issuing JWT access tokens by the client-credentials
// grant to apiClients, each with the secret "secret-"+id.
type ccStorage struct {
	*storage.Storage
}

// ccClient is a client of the client-credentials grant whose access tokens are JWTs.
type ccClient struct{ op.Client }

func (ccClient) GrantTypes() []zoidc.GrantType {
	return []zoidc.GrantType{zoidc.GrantTypeClientCredentials}
}
func (ccClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (s ccStorage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	if _, ok := apiClients[id]; !ok || secret != "secret-"+id {
		return nil, errors.New("wrong client or secret")
	}
	return ccClient{storage.WebClient(id, secret)}, nil
}

func (s ccStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	aud, ok := apiClients[id]
	if !ok {
		return nil, errors.New("wrong client")
	}
	return &zoidc.JWTTokenRequest{Subject: id, Audience: []string{aud}, Scopes: scopes}, nil
}

// startTokenProvider starts zitadel's OpenID provider on loopback with the API's clients and
// returns its issuer and its token endpoint.
func startTokenProvider(t *testing.T) (issuer, tokenURL string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer = "http://" + ln.Addr().String() + "/"
	st := ccStorage{storage.NewStorageWithClients(storage.NewUserStore(issuer), map[string]*storage.Client{})}
	hs := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	return issuer, p.Endpoint().TokenURL
}

// clientToken gets client's access token by the client-credentials grant, as an application does.
func clientToken(t *testing.T, tokenURL, client string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: client, ClientSecret: "secret-" + client, TokenURL: tokenURL}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("token of %s: %v", client, err)
	}
	return tok.AccessToken
}
