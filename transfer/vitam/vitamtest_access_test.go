package vitam_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/versement/versement/transfer/vitam"
	"github.com/versement/versement/transfer/vitam/vitamtest"
)

// The test server answers as VITAM's filters do where a client goes wrong: no contract header
// (Java prints it as null), and a POST on /units without the override, which is a mass update.
func TestTestServerRefusesAsVITAMDoes(t *testing.T) {
	client := vitamtest.NewClient(t, "versement client")
	s := vitamtest.Start(t, "", client.Pool)
	s.AddAccessContract(2, scolarite)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	for _, tc := range []struct {
		contract, override string
		code               int
		body               string
		dsl                string
	}{
		{"", "GET", 401, `{"code":"000700","context":"{\"Name\":\"vitamtest\",\"Role\":\"access-external\",\"ServerId\":1,\"SiteId\":1,\"GlobalPlatformId\":1}","description":"Access contract null not found in the context for the tenant id :2","httpCode":401,"message":"Internal Security Filter Unauthorized","state":"INTERNAL_SECURITY_UNAUTHORIZED"}`, ""},
		{"AC-SCOL", "", 400, `{"code":"000601","context":"Vitam","description":"POST /units without X-Http-Method-Override: GET is a mass update, whose DSL needs $action","httpCode":400,"message":"Dsl query is not valid.","state":"Business"}`, ""},
		{"AC-SCOL", "GET", 400, `{"code":"000601","context":"Vitam","description":"field _id: names starting with _ are forbidden","httpCode":400,"message":"Dsl query is not valid.","state":"Business"}`, `{"$query":[{"$eq":{"_id":"x"}}],"$projection":{}}`},
		{"AC-SCOL", "GET", 400, `{"code":"000601","context":"Vitam","description":"$projection is required","httpCode":400,"message":"Dsl query is not valid.","state":"Business"}`, `{"$query":[]}`},
		{"AC-SCOL", "GET", 200, `{"$context":{"$query":[],"$projection":{}},"$facetResults":[],"$hits":{"limit":10000,"offset":0,"size":0,"total":0},"$results":[],"httpCode":200}`, ""},
	} {
		if tc.dsl == "" {
			tc.dsl = `{"$query":[],"$projection":{}}`
		}
		req, _ := http.NewRequest("POST", s.AdminURL()+"/access-external/v1/units", strings.NewReader(tc.dsl))
		req.Header.Set("X-Tenant-Id", "2")
		req.Header.Set("Content-Type", "application/json")
		if tc.contract != "" {
			req.Header.Set("X-Access-Contract-Id", tc.contract)
		}
		if tc.override != "" {
			req.Header.Set("X-Http-Method-Override", tc.override)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || string(b) != tc.body || len(resp.Header.Get("X-Request-Id")) != 36 {
			t.Errorf("contract %q override %q: %d %s (request id %q)\nwant %d %s", tc.contract, tc.override, resp.StatusCode, b, resp.Header.Get("X-Request-Id"), tc.code, tc.body)
		}
	}
}

// DIP exports are polled where ingests are, and say what they are (X-Context-Id EXPORT_DIP).
func TestTestServerPollsDIPExportsAsOperations(t *testing.T) {
	ctx := context.Background()
	s, client, _ := ingested(t, scolarite)
	a := accessClient(t, s, client, "&access-contract=AC-SCOL")
	us, err := a.FindUnits(ctx, vitam.UnitQuery{OriginatingSystemID: "43"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := a.ExportDIP(ctx, []string{us[0].SystemID})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{client.Cert}, RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest("HEAD", s.AdminURL()+"/admin-external/v1/operations/"+op, nil)
	req.Header.Set("X-Tenant-Id", "2")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Context-Id") != "EXPORT_DIP" || resp.Header.Get("X-Global-Execution-State") != "COMPLETED" || resp.Header.Get("X-Global-Execution-Status") != "OK" {
		t.Errorf("HEAD %s: %d %v", op, resp.StatusCode, resp.Header)
	}
}
