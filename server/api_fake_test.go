package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/versement/versement/deposit"
	"github.com/versement/versement/server"
)

var _ server.Deposits = (*fakeDeposits)(nil)

// fakeDeposits is one establishment's deposits in memory, keeping deposit.Service's rules that
// the HTTP layer shows: chunks at the received offset, a retried chunk acknowledged, the chunk's
// and the object's digests checked (a wrong object digest removes its bytes), states, and
// referential errors at close.
type fakeDeposits struct {
	mu    sync.Mutex
	est   string
	n     int
	txs   map[string]*fakeTx
	byRef map[string]string
	now   time.Time
}

type fakeTx struct {
	tx      deposit.Transaction
	units   []json.RawMessage
	objects map[string]*fakeObject
	order   []string
	sip     []byte
	atr     []byte
}

type fakeObject struct {
	o    deposit.Object
	data []byte
}

func newFakeDeposits(est string) *fakeDeposits {
	return &fakeDeposits{est: est, txs: map[string]*fakeTx{}, byRef: map[string]string{},
		now: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
}

func refusal(k deposit.ErrorKind, field, format string, args ...any) *deposit.Error {
	return &deposit.Error{Kind: k, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (f *fakeDeposits) tx(id string) (*fakeTx, error) {
	t, ok := f.txs[id]
	if !ok {
		return nil, refusal(deposit.NotFound, "", "no transaction %s", id)
	}
	return t, nil
}

// snapshot is the transaction as its status gives it, objects in upload order.
func (t *fakeTx) snapshot() deposit.Transaction {
	tx := t.tx
	tx.Objects = nil
	for _, n := range t.order {
		tx.Objects = append(tx.Objects, t.objects[n].o)
	}
	return tx
}

func (f *fakeDeposits) Create(_ context.Context, h deposit.Header, by string) (deposit.Transaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.Profile == "" {
		return deposit.Transaction{}, refusal(deposit.Invalid, "header.profile", "the profile is needed")
	}
	if h.Class == "" {
		return deposit.Transaction{}, refusal(deposit.Invalid, "header.class", "the class is needed")
	}
	if id, ok := f.byRef[h.Reference]; ok && h.Reference != "" {
		return f.txs[id].snapshot(), nil
	}
	f.n++
	id := fmt.Sprintf("tx%04d", f.n)
	f.txs[id] = &fakeTx{objects: map[string]*fakeObject{}, tx: deposit.Transaction{ID: id, Establishment: f.est, Kind: deposit.KindUnits,
		Header: h, State: deposit.StateOpen, Created: f.now, Updated: f.now, By: by}}
	if h.Reference != "" {
		f.byRef[h.Reference] = id
	}
	return f.txs[id].snapshot(), nil
}

func (f *fakeDeposits) Get(_ context.Context, id string) (deposit.Transaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return deposit.Transaction{}, err
	}
	return t.snapshot(), nil
}

func (t *fakeTx) open(field string) error {
	if t.tx.Kind != deposit.KindUnits {
		return refusal(deposit.Conflict, field, "transaction %s carries a SIP", t.tx.ID)
	}
	if t.tx.State != deposit.StateOpen {
		return refusal(deposit.Conflict, field, "transaction %s is %s: it takes no more", t.tx.ID, t.tx.State)
	}
	return nil
}

func (f *fakeDeposits) AddUnits(_ context.Context, id string, r io.Reader, _ string) (int, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, fmt.Errorf("reading units: %w", err)
	}
	var docs []json.RawMessage
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &docs); err != nil {
			return 0, refusal(deposit.Invalid, "units", "not a JSON array of documents")
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, len(b)+1)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				docs = append(docs, json.RawMessage(bytes.Clone(line)))
			}
		}
	}
	for i, d := range docs {
		var doc struct {
			Tables []json.RawMessage `json:"tables"`
		}
		if json.Unmarshal(d, &doc) != nil || doc.Tables == nil {
			return 0, refusal(deposit.Invalid, fmt.Sprintf("units[%d]", i), "not a dossier document: no tables")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return 0, err
	}
	if err := t.open("units"); err != nil {
		return 0, err
	}
	t.units = append(t.units, docs...)
	t.tx.Units += len(docs)
	return len(docs), nil
}

var lowerHex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f *fakeDeposits) PutChunk(_ context.Context, id string, c deposit.Chunk, r io.Reader) (deposit.Object, error) {
	field := "objects/" + c.Name
	if !lowerHex.MatchString(c.ChunkSHA256) || !lowerHex.MatchString(c.ObjectSHA256) {
		return deposit.Object{}, refusal(deposit.Invalid, field, "digests must be SHA-256 in lowercase hex")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return deposit.Object{}, err
	}
	if err := t.open(field); err != nil {
		return deposit.Object{}, err
	}
	obj := t.objects[c.Name]
	if obj == nil {
		obj = &fakeObject{o: deposit.Object{Name: c.Name, Size: c.Total, SHA256: c.ObjectSHA256}}
	} else if obj.o.Size != c.Total || obj.o.SHA256 != c.ObjectSHA256 {
		return deposit.Object{}, refusal(deposit.Conflict, field, "object %q was started as %d bytes with SHA-256 %s", c.Name, obj.o.Size, obj.o.SHA256)
	}
	buf := make([]byte, c.Length)
	if _, err := io.ReadFull(r, buf); err != nil {
		return deposit.Object{}, fmt.Errorf("reading the chunk: %w", err)
	}
	sum := sha256.Sum256(buf)
	got := hex.EncodeToString(sum[:])
	if c.Offset != obj.o.Received {
		if c.Offset+c.Length <= obj.o.Received && got == c.ChunkSHA256 && bytes.Equal(obj.data[c.Offset:c.Offset+c.Length], buf) {
			return obj.o, nil // a retry of a chunk already stored
		}
		rec := obj.o.Received
		e := refusal(deposit.Conflict, field, "chunk at offset %d, but %d bytes are received: resume at %d", c.Offset, rec, rec)
		e.Received = &rec
		return deposit.Object{}, e
	}
	if got != c.ChunkSHA256 {
		return deposit.Object{}, refusal(deposit.Unprocessable, field, "the chunk's SHA-256 is %s, not the declared %s", got, c.ChunkSHA256)
	}
	if _, ok := t.objects[c.Name]; !ok {
		t.objects[c.Name] = obj
		t.order = append(t.order, c.Name)
	}
	obj.data = append(obj.data, buf...)
	obj.o.Received += c.Length
	if obj.o.Received == obj.o.Size {
		whole := sha256.Sum256(obj.data)
		if got := hex.EncodeToString(whole[:]); got != obj.o.SHA256 {
			delete(t.objects, c.Name)
			t.order = t.order[:len(t.order)-1]
			return deposit.Object{}, refusal(deposit.Unprocessable, field, "the object's SHA-256 is %s, not the declared %s: its bytes are removed", got, obj.o.SHA256)
		}
		obj.o.Complete = true
	}
	return obj.o, nil
}

func (f *fakeDeposits) Object(_ context.Context, id, name string) (deposit.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return deposit.Object{}, err
	}
	o, ok := t.objects[name]
	if !ok {
		return deposit.Object{}, refusal(deposit.NotFound, "objects/"+name, "no object %q in transaction %s", name, id)
	}
	return o.o, nil
}

func (f *fakeDeposits) Close(_ context.Context, id, _ string) (deposit.Transaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return deposit.Transaction{}, err
	}
	if s := t.tx.State; s != deposit.StateOpen && s != deposit.StateFailed {
		return deposit.Transaction{}, refusal(deposit.Conflict, "", "transaction %s is %s: it cannot be closed", id, s)
	}
	if a := t.tx.Header.ArchivalAgreement; a != "" && a != "IC-"+f.est {
		return deposit.Transaction{}, refusal(deposit.Unprocessable, "header.archival_agreement", "ingest contract %q is not one of establishment %s", a, f.est)
	}
	if t.tx.Units == 0 {
		return deposit.Transaction{}, refusal(deposit.Unprocessable, "units", "no units: nothing to archive")
	}
	for _, n := range t.order {
		if o := t.objects[n].o; !o.Complete {
			return deposit.Transaction{}, refusal(deposit.Unprocessable, "objects/"+n, "object %q is incomplete: %d of %d bytes", n, o.Received, o.Size)
		}
	}
	t.tx.State = deposit.StateQueued
	return t.snapshot(), nil
}

// finish is what the worker does: the SIP sent, the archive's reply kept.
func (f *fakeDeposits) finish(id string, atr []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.txs[id]
	t.tx.State = deposit.StateDone
	t.tx.SIPs = []deposit.SIPRef{{Name: id + "-intermediaire-0001.zip", SHA256: strings.Repeat("ab", 32), Bytes: 4096,
		Tier: "intermediate", Dossiers: t.tx.Units, Target: "vitam://tenant-1", Status: "accepted", ATR: true}}
	t.atr = atr
}

func (f *fakeDeposits) ATR(_ context.Context, id string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tx(id)
	if err != nil {
		return nil, err
	}
	if t.atr == nil {
		return nil, refusal(deposit.NotFound, "atr", "transaction %s has no transfer reply yet", id)
	}
	return io.NopCloser(bytes.NewReader(t.atr)), nil
}

func (f *fakeDeposits) SubmitSIP(_ context.Context, r io.Reader, by string) (deposit.Transaction, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return deposit.Transaction{}, fmt.Errorf("reading the SIP: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return deposit.Transaction{}, &deposit.Error{Kind: deposit.Unprocessable, Field: "sip", Msg: "the SIP does not verify", Findings: []string{"not a zip file"}}
	}
	if _, err := zr.Open("manifest.xml"); err != nil {
		return deposit.Transaction{}, &deposit.Error{Kind: deposit.Unprocessable, Field: "sip", Msg: "the SIP does not verify", Findings: []string{"manifest.xml: missing"}}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("tx%04d", f.n)
	f.txs[id] = &fakeTx{objects: map[string]*fakeObject{}, sip: b, tx: deposit.Transaction{ID: id, Establishment: f.est, Kind: deposit.KindSIP,
		State: deposit.StateQueued, Created: f.now, Updated: f.now, By: by}}
	return f.txs[id].snapshot(), nil
}
