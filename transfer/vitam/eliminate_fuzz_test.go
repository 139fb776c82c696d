package vitam

import "testing"

// The batch report comes from the network: any bytes give outcomes or an error, never a panic,
// and every outcome names its unit or group.
func FuzzEliminationReport(f *testing.F) {
	f.Add([]byte(`{"tenant":0,"evId":"1"}
{"reportType":"ELIMINATION_ACTION"}
{}
{"id":"u1","params":{"id":"u1","status":"GLOBAL_STATUS_KEEP"}}
{"id":"g1","params":{"type":"ObjectGroup","status":"DELETED","objectIds":["b1"]}}
`))
	f.Add([]byte("{}\n{}\n{}\nnot json\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := parseEliminationReport(b)
		if err != nil {
			return
		}
		for _, o := range out {
			if o.ID == "" || o.Type == "" {
				t.Fatalf("outcome without id or type: %+v", o)
			}
		}
	})
}

func TestEliminationReportParsesVITAMsFixture(t *testing.T) {
	// VITAM's expected report (batch-report-rest eliminationAction_expectedReport.jsonl), shape only.
	out, err := parseEliminationReport([]byte(`{"tenant":0,"evId":"123456789","evType":"","outcome":"","outDetail":"","outMsg":"","rightsStatementIdentifier":{},"evDetData":{}}
{"reportType":"ELIMINATION_ACTION","vitamResults":{"OK":1,"KO":0,"WARNING":0,"total":1},"extendedInfo":{}}
{}
{"id":"unitId1","params":{"id":"unitId1","opi":"opi0","objectGroupId":"id2","originatingAgency":"sp1","status":"GLOBAL_STATUS_CONFLICT"}}
{"id":"unitId2","params":{"type":"Unit","opi":"opi0","objectGroupId":"id2","originatingAgency":"sp1","status":"DELETED","unitId":"unitId1","id":"unitId2"}}
{"id":"objectGroup1","params":{"type":"ObjectGroup","opi":"opi0","id":"objectGroup1","originatingAgency":"sp1","status":"DELETED","objectIds":["binary1","binary2"]}}
`))
	if err != nil || len(out) != 3 {
		t.Fatalf("%+v %v", out, err)
	}
	if o := out[0]; o.ID != "unitId1" || o.Type != "Unit" || o.Status != "GLOBAL_STATUS_CONFLICT" || o.ObjectGroup != "id2" {
		t.Errorf("%+v", o)
	}
	if o := out[2]; o.Type != "ObjectGroup" || o.Status != "DELETED" || len(o.Objects) != 2 {
		t.Errorf("%+v", o)
	}
	if _, err := parseEliminationReport([]byte("{}\n{}\n{}\n{\"params\":{}}\n")); err == nil || err.Error() != `VITAM elimination report, line 4: not an {"id", "params"} line` {
		t.Errorf("got %v", err)
	}
}
