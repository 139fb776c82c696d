package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/sip"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// State is the run state kept on disk between runs (state.db in the state folder, SQLite): which
// dossier went at which tier into which SIP, and which SIPs are written but not yet known to be
// sent. It makes runs exactly-once without holding the database's keys in memory.
type State struct {
	db   *sql.DB
	path string
	has  *sql.Stmt
}

// SIP status in the state database.
const (
	sipSpooled = "spooled" // written in the spool, keys recorded, not yet known to be at the target
	sipSent    = "sent"    // recorded in the ledger as stored/accepted
)

const stateSchema = `
CREATE TABLE IF NOT EXISTS sips (
	name TEXT PRIMARY KEY,
	profile TEXT NOT NULL, class TEXT NOT NULL, tier TEXT NOT NULL,
	status TEXT NOT NULL,
	message_id TEXT NOT NULL, first_key TEXT NOT NULL, last_key TEXT NOT NULL,
	dossiers INTEGER NOT NULL, bytes INTEGER NOT NULL,
	sha256 TEXT NOT NULL, manifest_sha512 TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '', ledger_seq INTEGER NOT NULL DEFAULT 0,
	retain_until TEXT NOT NULL DEFAULT '', legal_hold INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dossiers (
	profile TEXT NOT NULL, class TEXT NOT NULL, tier TEXT NOT NULL, key TEXT NOT NULL,
	sip TEXT NOT NULL,
	PRIMARY KEY (profile, class, tier, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dossiers_sip ON dossiers(sip);
CREATE TABLE IF NOT EXISTS notices (
	profile TEXT NOT NULL, class TEXT NOT NULL, kind TEXT NOT NULL,
	digest TEXT NOT NULL,
	PRIMARY KEY (profile, class, kind)
) WITHOUT ROWID;
`

// OpenState opens (creating it if needed) the state database in dir.
func OpenState(ctx context.Context, dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	path := filepath.Join(dir, "state.db")
	// synchronous(FULL): a transaction that committed survives a power cut, which the crash-safety
	// argument (docs/pipeline.md) relies on. cache_size(-512): the state is small rows found by key, and
	// SQLite's default 2 MiB cache was memory that grew with the base (bench/README.md, "Memory").
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=cache_size(-512)")
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, stateSchema+elimSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	has, err := db.PrepareContext(ctx, `SELECT sip FROM dossiers WHERE profile=? AND class=? AND tier=? AND key=?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &State{db: db, path: path, has: has}, nil
}

// Path is the state database's file.
func (s *State) Path() string { return s.path }

// Close closes the database.
func (s *State) Close() error {
	if s == nil {
		return nil
	}
	s.has.Close()
	return s.db.Close()
}

// Archived returns the SIP a dossier was archived in at a tier, or "".
func (s *State) Archived(ctx context.Context, profile, class, tier, key string) (string, error) {
	var sip string
	err := s.has.QueryRowContext(ctx, profile, class, tier, key).Scan(&sip)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("state %s: %w", s.path, err)
	}
	return sip, nil
}

// AnyArchived says whether the state records any dossier of the profile's class at this tier.
func (s *State) AnyArchived(ctx context.Context, profile, class, tier string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM dossiers WHERE profile=? AND class=? AND tier=?)`, profile, class, tier).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("state %s: %w", s.path, err)
	}
	return n == 1, nil
}

// stateSIP is a row of the sips table.
type stateSIP struct {
	sip.Record
	Status, Target string
	LedgerSeq      int64
}

// spooled records a SIP written in the spool and the keys of its dossiers, in one transaction.
func (s *State) spooled(ctx context.Context, r sip.Record, keys []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO sips(name, profile, class, tier, status, message_id, first_key, last_key, dossiers, bytes, sha256, manifest_sha512, retain_until, legal_hold)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, r.Name, r.Profile, r.Class, r.Tier, sipSpooled, r.MessageID, r.FirstKey, r.LastKey, r.Dossiers, r.Bytes, r.Digest, r.ManifestDigest, dateText(r.RetainUntil), r.LegalHold); err != nil {
		return fmt.Errorf("state %s: SIP %s: %w", s.path, r.Name, err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO dossiers(profile, class, tier, key, sip) VALUES (?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, r.Profile, r.Class, r.Tier, k, r.Name); err != nil {
			return fmt.Errorf("state %s: dossier %s of SIP %s: %w", s.path, k, r.Name, err)
		}
	}
	return tx.Commit()
}

// sent marks a spooled SIP as recorded in the ledger.
func (s *State) sent(ctx context.Context, name, target string, seq int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sips SET status=?, target=?, ledger_seq=? WHERE name=?`, sipSent, target, seq, name)
	if err != nil {
		return fmt.Errorf("state %s: SIP %s: %w", s.path, name, err)
	}
	return nil
}

// forget removes a spooled SIP whose file is lost and that never reached the target: its dossiers
// are archived again by this run.
func (s *State) forget(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM dossiers WHERE sip=?`, name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sips WHERE name=?`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// Notice records that the runs warned about digest for (profile, class, kind), and reports whether
// it differs from what they warned about last; an empty digest forgets it.
func (s *State) Notice(ctx context.Context, profile, class, kind, digest string) (bool, error) {
	var prev string
	err := s.db.QueryRowContext(ctx, `SELECT digest FROM notices WHERE profile=? AND class=? AND kind=?`, profile, class, kind).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("state %s: %w", s.path, err)
	}
	if prev == digest {
		return false, nil
	}
	if digest == "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM notices WHERE profile=? AND class=? AND kind=?`, profile, class, kind)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO notices(profile, class, kind, digest) VALUES (?,?,?,?)
			ON CONFLICT(profile, class, kind) DO UPDATE SET digest=excluded.digest`, profile, class, kind, digest)
	}
	if err != nil {
		return false, fmt.Errorf("state %s: %w", s.path, err)
	}
	return true, nil
}

// pending lists the SIPs of profile still spooled.
func (s *State) pending(ctx context.Context, profile string) ([]stateSIP, error) {
	return s.sips(ctx, `WHERE profile=? AND status=? ORDER BY name`, profile, sipSpooled)
}

// sentSIP is the row of a SIP the state marks sent, if it does.
func (s *State) sentSIP(ctx context.Context, name string) (stateSIP, bool, error) {
	rows, err := s.sips(ctx, `WHERE name=? AND status=?`, name, sipSent)
	if err != nil || len(rows) == 0 {
		return stateSIP{}, false, err
	}
	return rows[0], true, nil
}

// eachSent calls fn for every SIP of profile the state marks sent, in name order, reading one row
// at a time (a state may record many thousands). fn must not use the state: its one connection is
// busy with the rows.
func (s *State) eachSent(ctx context.Context, profile string, fn func(stateSIP)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sipColumns+` FROM sips WHERE profile=? AND status=? ORDER BY name`, profile, sipSent)
	if err != nil {
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanSIP(rows)
		if err != nil {
			return fmt.Errorf("state %s: %w", s.path, err)
		}
		fn(r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	return nil
}

// SIPNames lists every SIP the state records for profile (sent or spooled), in name order.
func (s *State) SIPNames(ctx context.Context, profile string) ([]string, error) {
	rows, err := s.sips(ctx, `WHERE profile=? ORDER BY name`, profile)
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out, err
}

// Count returns how many dossiers of profile the state records per tier.
func (s *State) Count(ctx context.Context, profile string) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tier, count(*) FROM dossiers WHERE profile=? GROUP BY tier`, profile)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}

func (s *State) sips(ctx context.Context, where string, args ...any) ([]stateSIP, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sipColumns+` FROM sips `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []stateSIP
	for rows.Next() {
		r, err := scanSIP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const sipColumns = `name, profile, class, tier, status, message_id, first_key, last_key, dossiers, bytes, sha256, manifest_sha512, target, ledger_seq, retain_until, legal_hold`

func scanSIP(rows *sql.Rows) (stateSIP, error) {
	var r stateSIP
	var retain string
	if err := rows.Scan(&r.Name, &r.Profile, &r.Class, &r.Tier, &r.Status, &r.MessageID, &r.FirstKey, &r.LastKey, &r.Dossiers, &r.Bytes, &r.Digest, &r.ManifestDigest, &r.Target, &r.LedgerSeq, &retain, &r.LegalHold); err != nil {
		return r, err
	}
	r.ID, r.DigestAlgorithm = strings.TrimSuffix(r.Name, ".zip"), "SHA-256"
	if retain != "" {
		d, err := civil.Parse(retain)
		if err != nil {
			return r, fmt.Errorf("SIP %s: retain_until: %w", r.Name, err)
		}
		r.RetainUntil = d
	}
	return r, nil
}
