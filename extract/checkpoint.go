package extract

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/versement/versement/internal/atomicfile"
)

// Checkpoint remembers, per class, the key of the last dossier whose output is safely stored, so
// that a run killed at any moment (SIGKILL included) resumes after it: Dossiers(ctx, class,
// cp.After(class)). Record a key only once everything up to it is durable downstream (the SIP
// stored); then the resumed run loses nothing, and what it redoes it redoes identically (same
// batch boundaries, same deterministic SIP names), so nothing is duplicated either.
//
// The file is JSON, replaced atomically on each Done: written to a temporary file in the same
// folder, fsynced, renamed over the old one, and the folder fsynced. A crash leaves the old or the
// new state, never a torn one.
type Checkpoint struct {
	path  string
	mu    sync.Mutex
	state map[string]checkpointKey
}

// checkpointKey keeps the key's type: an integer key 10 and a text key "10" are not the same
// position.
type checkpointKey struct {
	Int  *int64  `json:"int,omitempty"`
	Text *string `json:"text,omitempty"`
}

type checkpointFile struct {
	Version int                      `json:"version"`
	Classes map[string]checkpointKey `json:"classes"`
}

// OpenCheckpoint reads the checkpoint file at path, or starts an empty one if it does not exist.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	c := &Checkpoint{path: path, state: map[string]checkpointKey{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("checkpoint %s is damaged (%v): move it away to start from the beginning, or restore it", path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("checkpoint %s: version %d, want 1", path, f.Version)
	}
	for k, v := range f.Classes {
		c.state[k] = v
	}
	return c, nil
}

// After is the key to resume class after, or nil to start from the first dossier.
func (c *Checkpoint) After(class string) Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.state[class]
	switch {
	case !ok:
		return nil
	case k.Int != nil:
		return *k.Int
	case k.Text != nil:
		return *k.Text
	}
	return nil
}

// Done records durably that every dossier of class up to key is finished.
func (c *Checkpoint) Done(class string, key Value) error {
	var k checkpointKey
	switch x := key.(type) {
	case int64:
		k.Int = &x
	case int:
		v := int64(x)
		k.Int = &v
	case string:
		k.Text = &x
	default:
		return fmt.Errorf("checkpoint: key %v of type %T: want int64 or string", key, key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had := c.state[class]
	c.state[class] = k
	if err := c.save(); err != nil {
		if had {
			c.state[class] = old
		} else {
			delete(c.state, class)
		}
		return err
	}
	return nil
}

// Reset forgets class, so that its next run starts from the first dossier.
func (c *Checkpoint) Reset(class string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.state, class)
	return c.save()
}

func (c *Checkpoint) save() error {
	f := checkpointFile{Version: 1, Classes: c.state}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.path, append(b, '\n')); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Classes lists the classes the checkpoint knows, sorted.
func (c *Checkpoint) Classes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.state {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
