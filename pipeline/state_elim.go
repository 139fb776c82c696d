package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/versement/versement/sip"
)

// What the state records of eliminations (package eliminate): the dossiers destroyed, under
// which visa and from which SIP, so that a second execution destroys nothing twice and the
// attestation can be written again; and each SIP replaced by its rewrite, until the old one is
// deleted from its target.
const elimSchema = `
CREATE TABLE IF NOT EXISTS eliminated (
	profile TEXT NOT NULL, class TEXT NOT NULL, tier TEXT NOT NULL, key TEXT NOT NULL,
	sip TEXT NOT NULL, visa TEXT NOT NULL, at TEXT NOT NULL,
	PRIMARY KEY (profile, class, tier, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replaced (
	old TEXT PRIMARY KEY, new TEXT NOT NULL, visa TEXT NOT NULL, target TEXT NOT NULL,
	status TEXT NOT NULL, locked_until TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
`

// SIP status of a SIP an elimination replaced (the sips table), and of its replacement row.
const (
	sipReplaced = "replaced" // its rewrite is stored, or every dossier in it was destroyed

	// SIPSent and SIPReplaced are the sips table's statuses an elimination reads: a SIP
	// recorded at its target, and one an elimination replaced.
	SIPSent     = sipSent
	SIPReplaced = sipReplaced

	ReplacedToDelete = "to-delete" // the old SIP is still at its target, to be deleted
	ReplacedLocked   = "locked"    // its target's Object Lock keeps it until locked_until
	ReplacedDeleted  = "deleted"   // gone from its target
)

// LockState takes the state folder's lock, as a run does: an elimination and a run must not
// write one state at once. Close releases it.
func LockState(dir, ledgerPath string) (io.Closer, error) { return lockState(dir, ledgerPath) }

// StateSIP is a SIP the state records: its record, status (spooled, sent, replaced), target and
// ledger entry.
type StateSIP struct {
	sip.Record
	Status, Target string
	LedgerSeq      int64
}

// SIP returns the state's row of a SIP.
func (s *State) SIP(ctx context.Context, name string) (StateSIP, bool, error) {
	rows, err := s.sips(ctx, `WHERE name=?`, name)
	if err != nil || len(rows) == 0 {
		return StateSIP{}, false, err
	}
	return StateSIP(rows[0]), true, nil
}

// Located is where the state says a dossier is archived.
type Located struct{ Tier, SIP string }

// Locate returns every tier and SIP a dossier is archived in (usually one).
func (s *State) Locate(ctx context.Context, profile, class, key string) ([]Located, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tier, sip FROM dossiers WHERE profile=? AND class=? AND key=? ORDER BY tier`, profile, class, key)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Located
	for rows.Next() {
		var l Located
		if err := rows.Scan(&l.Tier, &l.SIP); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Eliminated is a dossier destroyed under a visa.
type Eliminated struct {
	Tier, SIP, Visa string
	At              time.Time
}

// Eliminations returns the records of a dossier's destruction (one per tier it was archived in).
func (s *State) Eliminations(ctx context.Context, profile, class, key string) ([]Eliminated, error) {
	return s.eliminated(ctx, `WHERE profile=? AND class=? AND key=? ORDER BY tier`, profile, class, key)
}

// EliminatedKey returns the records of the destruction of a profile's dossier, in any class
// (what a consultation answers for a dossier the index no longer has).
func (s *State) EliminatedKey(ctx context.Context, profile, key string) ([]Eliminated, error) {
	return s.eliminated(ctx, `WHERE profile=? AND key=? ORDER BY at`, profile, key)
}

func (s *State) eliminated(ctx context.Context, where string, args ...any) ([]Eliminated, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tier, sip, visa, at FROM eliminated `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Eliminated
	for rows.Next() {
		var e Eliminated
		var at string
		if err := rows.Scan(&e.Tier, &e.SIP, &e.Visa, &at); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Replacement is one SIP rewritten without the dossiers an elimination destroys.
type Replacement struct {
	Visa string
	Old  string      // the SIP replaced
	New  *sip.Record // its rewrite, recorded as sent; nil when every dossier was destroyed
	// NewTarget and NewSeq: where the rewrite was stored and its ledger entry.
	NewTarget string
	NewSeq    int64
	Destroyed []string // keys of the old SIP's dossiers destroyed
	At        time.Time
}

// Replace records, in one transaction, that a SIP was replaced under a visa: the rewrite as sent
// and holding the kept dossiers, the destroyed ones moved to the eliminated table, the old SIP
// "replaced" and to be deleted from its target. Called only once the rewrite is in the ledger, so
// that no dossier is ever recorded in neither SIP. Replacing the same SIP again does nothing.
func (s *State) Replace(ctx context.Context, r Replacement) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	fail := func(err error) error { return fmt.Errorf("state %s: SIP %s replaced: %w", s.path, r.Old, err) }
	var profile, class, tier, target, status string
	err = tx.QueryRowContext(ctx, `SELECT profile, class, tier, target, status FROM sips WHERE name=?`, r.Old).Scan(&profile, &class, &tier, &target, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return fail(errors.New("not in the state"))
	}
	if err != nil {
		return fail(err)
	}
	if status == sipReplaced {
		return nil
	}
	if status != sipSent {
		return fail(fmt.Errorf("its status is %s, not sent", status))
	}
	at := r.At.UTC().Format(time.RFC3339Nano)
	for _, k := range r.Destroyed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO eliminated(profile, class, tier, key, sip, visa, at) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT DO NOTHING`, profile, class, tier, k, r.Old, r.Visa, at); err != nil {
			return fail(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dossiers WHERE profile=? AND class=? AND tier=? AND key=? AND sip=?`, profile, class, tier, k, r.Old); err != nil {
			return fail(err)
		}
	}
	newName := ""
	if n := r.New; n != nil {
		newName = n.Name
		if _, err := tx.ExecContext(ctx, `INSERT INTO sips(name, profile, class, tier, status, message_id, first_key, last_key, dossiers, bytes, sha256, manifest_sha512, target, ledger_seq, retain_until, legal_hold)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(name) DO NOTHING`, n.Name, profile, class, tier, sipSent, n.MessageID, n.FirstKey, n.LastKey, n.Dossiers, n.Bytes, n.Digest, n.ManifestDigest,
			r.NewTarget, r.NewSeq, dateText(n.RetainUntil), n.LegalHold); err != nil {
			return fail(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dossiers SET sip=? WHERE sip=?`, n.Name, r.Old); err != nil {
			return fail(err)
		}
	} else {
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dossiers WHERE sip=?`, r.Old).Scan(&left); err != nil {
			return fail(err)
		}
		if left > 0 {
			return fail(fmt.Errorf("no rewrite, but %d of its dossiers are not destroyed", left))
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sips SET status=? WHERE name=?`, sipReplaced, r.Old); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO replaced(old, new, visa, target, status) VALUES (?,?,?,?,?)`, r.Old, newName, r.Visa, target, ReplacedToDelete); err != nil {
		return fail(err)
	}
	return tx.Commit()
}

// Replaced is a SIP an elimination replaced, and whether it is gone from its target yet.
type Replaced struct {
	Old, New, Visa, Target, Status string
	LockedUntil                    time.Time
}

// ReplacedSIPs lists the SIPs replaced under a visa ("": any), in name order.
func (s *State) ReplacedSIPs(ctx context.Context, visa string) ([]Replaced, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT old, new, visa, target, status, locked_until FROM replaced WHERE visa=? OR ?='' ORDER BY old`, visa, visa)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Replaced
	for rows.Next() {
		var r Replaced
		var until string
		if err := rows.Scan(&r.Old, &r.New, &r.Visa, &r.Target, &r.Status, &until); err != nil {
			return nil, err
		}
		if until != "" {
			r.LockedUntil, _ = time.Parse(time.RFC3339, until)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkDeleted records what became of a replaced SIP at its target: deleted, or locked until a
// date (zero: deleted).
func (s *State) MarkDeleted(ctx context.Context, old string, lockedUntil time.Time) error {
	status, until := ReplacedDeleted, ""
	if !lockedUntil.IsZero() {
		status, until = ReplacedLocked, lockedUntil.UTC().Format(time.RFC3339)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE replaced SET status=?, locked_until=? WHERE old=?`, status, until, old); err != nil {
		return fmt.Errorf("state %s: SIP %s: %w", s.path, old, err)
	}
	return nil
}

// EliminatedKeys lists the keys of the dossiers destroyed from a SIP, in key order.
func (s *State) EliminatedKeys(ctx context.Context, sipName string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM eliminated WHERE sip=? ORDER BY key`, sipName)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Destroyed records dossiers an archive destroyed itself (VITAM's elimination action): moved
// from the dossiers of their SIP to the eliminated table, in one transaction. The SIP stays: the
// archive keeps its other dossiers under its own identifiers.
func (s *State) Destroyed(ctx context.Context, sipName string, keys []string, visa string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var profile, class, tier string
	if err := tx.QueryRowContext(ctx, `SELECT profile, class, tier FROM sips WHERE name=?`, sipName).Scan(&profile, &class, &tier); err != nil {
		return fmt.Errorf("state %s: SIP %s: %w", s.path, sipName, err)
	}
	when := at.UTC().Format(time.RFC3339Nano)
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO eliminated(profile, class, tier, key, sip, visa, at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
			profile, class, tier, k, sipName, visa, when); err != nil {
			return fmt.Errorf("state %s: %w", s.path, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dossiers WHERE profile=? AND class=? AND tier=? AND key=? AND sip=?`, profile, class, tier, k, sipName); err != nil {
			return fmt.Errorf("state %s: %w", s.path, err)
		}
	}
	return tx.Commit()
}
