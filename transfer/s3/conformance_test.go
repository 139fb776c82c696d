package s3_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/versement/versement/internal/testsvc"
	"github.com/versement/versement/transfer"
	ts3 "github.com/versement/versement/transfer/s3"
	"github.com/versement/versement/transfer/targettest"
)

// Against versitygw (VERSEMENT_TEST_VERSITYGW): one server, one new bucket per test. Small parts
// and threshold, so that both PutObject and multipart uploads are exercised.
func TestConformance(t *testing.T) {
	s := testsvc.StartS3(t, testsvc.S3Options{})
	var n atomic.Int32
	targettest.Run(t, targettest.Suite{New: func(t *testing.T) transfer.Target {
		return open(t, s, fmt.Sprintf("conformance-%d", n.Add(1)), false, ts3.Options{})
	}})
}
