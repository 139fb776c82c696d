package vitam_test

import (
	"bytes"
	"testing"

	"github.com/versement/versement/transfer/vitam"
)

// The ATR comes from the network: whatever it holds, parsing must end with a reply or an error.
func FuzzParseATR(f *testing.F) {
	f.Add([]byte(`<ArchiveTransferReply xmlns="fr:gouv:culture:archivesdefrance:seda:v2.1"><MessageIdentifier>op</MessageIdentifier><ReplyCode>KO</ReplyCode><Operation><Event><EventTypeCode>CHECK</EventTypeCode><Outcome>KO</Outcome></Event></Operation></ArchiveTransferReply>`))
	f.Add([]byte(`<ArchiveTransferReply><ReplyCode>OK</ReplyCode></ArchiveTransferReply>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := vitam.ParseATR(bytes.NewReader(b))
		if err == nil && r.ReplyCode == "" {
			t.Fatal("accepted a reply without ReplyCode")
		}
	})
}
