package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeObject serves ranges of data, counting fetches per offset.
type fakeObject struct {
	data    []byte
	mu      sync.Mutex
	fetches map[int64]int
	fail    atomic.Bool
	delay   time.Duration
}

func (f *fakeObject) fetch(_ context.Context, off int64, p []byte) (int, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	f.fetches[off]++
	f.mu.Unlock()
	if f.fail.Load() {
		return 0, errors.New("connection reset")
	}
	return copy(p, f.data[off:]), nil
}

func newFake(size int) *fakeObject {
	d := make([]byte, size)
	for i := range d {
		d[i] = byte(i * 7)
	}
	return &fakeObject{data: d, fetches: map[int64]int{}}
}

// Small reads inside one block cost one request; concurrent readers of one block wait for the
// same fetch; the last block is short and ends in io.EOF.
func TestBlobCoalescesReads(t *testing.T) {
	f := newFake(10_000)
	f.delay = 20 * time.Millisecond
	b := newBlob(context.Background(), int64(len(f.data)), ReadOptions{BlockSize: 4096, Blocks: 2}, f.fetch)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			buf := make([]byte, 100)
			if n, err := b.ReadAt(buf, int64(i*100)); n != 100 || err != nil || !bytes.Equal(buf, f.data[i*100:i*100+100]) {
				t.Errorf("ReadAt %d: %d %v", i*100, n, err)
			}
		})
	}
	wg.Wait()
	if st := b.Stats(); st.Requests != 1 || st.Bytes != 4096 || f.fetches[0] != 1 {
		t.Errorf("8 concurrent reads in block 0: %+v, fetches %v; want one request of 4096 bytes", st, f.fetches)
	}
	buf := make([]byte, 3000)
	n, err := b.ReadAt(buf, 8000) // block 1 and the short block 2
	if n != 2000 || err != io.EOF || !bytes.Equal(buf[:n], f.data[8000:]) {
		t.Errorf("ReadAt over the end: %d %v", n, err)
	}
	if st := b.Stats(); st.Requests != 3 || st.Bytes != 10_000 {
		t.Errorf("after reading every block once: %+v; want 3 requests, 10000 bytes", st)
	}
}

// Past the limit the least recently used block goes and is fetched again when read again.
func TestBlobEvictsLeastRecentlyUsed(t *testing.T) {
	f := newFake(5 * 1024)
	b := newBlob(context.Background(), int64(len(f.data)), ReadOptions{BlockSize: 1024, Blocks: 2}, f.fetch)
	buf := make([]byte, 1)
	for _, off := range []int64{0, 1024, 0, 2048, 0, 1024} { // 0 stays recent; 1024 is evicted by 2048
		if _, err := b.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if f.fetches[0] != 1 || f.fetches[1024] != 2 || f.fetches[2048] != 1 {
		t.Errorf("fetches %v; want block 0 once, 1024 twice (evicted), 2048 once", f.fetches)
	}
}

// A failed fetch is not cached: the next read asks again. A cancelled context stops reads.
func TestBlobFailureAndCancel(t *testing.T) {
	f := newFake(2048)
	ctx, cancel := context.WithCancel(context.Background())
	b := newBlob(ctx, int64(len(f.data)), ReadOptions{BlockSize: 1024}, f.fetch)
	f.fail.Store(true)
	buf := make([]byte, 10)
	if _, err := b.ReadAt(buf, 0); err == nil || err.Error() != "connection reset" {
		t.Fatalf("read with a failing server: %v", err)
	}
	f.fail.Store(false)
	if n, err := b.ReadAt(buf, 0); n != 10 || err != nil {
		t.Fatalf("read once the server answers: %d %v", n, err)
	}
	cancel()
	if _, err := b.ReadAt(buf, 1500); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v; want context.Canceled", err)
	}
	if _, err := b.ReadAt(buf, -1); err == nil {
		t.Error("negative offset accepted")
	}
}

// A read of two blocks or more is one request for exactly its bytes, and fills no block.
func TestBlobLargeReadsDirect(t *testing.T) {
	f := newFake(10_000)
	b := newBlob(context.Background(), int64(len(f.data)), ReadOptions{BlockSize: 1024}, f.fetch)
	buf := make([]byte, 3000)
	if n, err := b.ReadAt(buf, 100); n != 3000 || err != nil || !bytes.Equal(buf, f.data[100:3100]) {
		t.Fatalf("large read: %d %v", n, err)
	}
	if n, err := b.ReadAt(buf, 8000); n != 2000 || err != io.EOF || !bytes.Equal(buf[:n], f.data[8000:]) {
		t.Fatalf("large read over the end: %d %v", n, err)
	}
	if st := b.Stats(); st.Requests != 2 || st.Bytes != 5000 || len(b.blocks) != 0 {
		t.Errorf("%+v, %d blocks cached; want 2 requests of exactly 5000 bytes, nothing cached", st, len(b.blocks))
	}
}

// A large read takes what cached blocks hold at its start from them.
func TestBlobLargeReadUsesCachedStart(t *testing.T) {
	f := newFake(10_000)
	b := newBlob(context.Background(), int64(len(f.data)), ReadOptions{BlockSize: 1024}, f.fetch)
	small := make([]byte, 10)
	if _, err := b.ReadAt(small, 1500); err != nil { // caches block 1 (1024-2047)
		t.Fatal(err)
	}
	buf := make([]byte, 4000)
	if n, err := b.ReadAt(buf, 1100); n != 4000 || err != nil || !bytes.Equal(buf, f.data[1100:5100]) {
		t.Fatalf("large read: %d %v", n, err)
	}
	if st := b.Stats(); st.Requests != 2 || st.Bytes != 1024+(5100-2048) || f.fetches[2048] != 1 {
		t.Errorf("%+v, fetches %v; want block 1, then 2048-5099 in one request", st, f.fetches)
	}
}

// ... and at its end.
func TestBlobLargeReadUsesCachedEnd(t *testing.T) {
	f := newFake(10_000)
	b := newBlob(context.Background(), int64(len(f.data)), ReadOptions{BlockSize: 1024}, f.fetch)
	small := make([]byte, 10)
	for _, off := range []int64{9500, 8500} { // caches blocks 9 (9216-9999) and 8 (8192-9215)
		if _, err := b.ReadAt(small, off); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 6000) // over the end
	if n, err := b.ReadAt(buf, 5000); n != 5000 || err != io.EOF || !bytes.Equal(buf[:n], f.data[5000:]) {
		t.Fatalf("large read to the end: %d %v", n, err)
	}
	if st := b.Stats(); st.Requests != 3 || st.Bytes != 10_000-9216+1024+(8192-5000) || f.fetches[5000] != 1 {
		t.Errorf("%+v, fetches %v; want blocks 9 and 8, then 5000-8191 in one request", st, f.fetches)
	}
}
