package platform

import "testing"

// deploy/platform.example.yaml is what operators copy: it must stay valid.
func TestDeployExample(t *testing.T) {
	c, err := Load("../deploy/platform.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := c.Establishment("univ-a")
	if !ok || len(a.Jobs) != 2 || a.Jobs[1].Name != "univ-a.harpege-weekly" || a.State != "/var/lib/versement/establishments/univ-a" {
		t.Errorf("univ-a: %+v", a)
	}
	if e, ok := c.ByClient("univ-a-sco-app"); !ok || e != a {
		t.Error("univ-a's client")
	}
}
