package sip

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/versement/versement/civil"
	"github.com/versement/versement/retention"
)

// ID is a SIP's name (without .zip) and message identifier. It names the content: the profile,
// class and tier, the as-of date (which fixes every decision and the message date) and the digest
// of the dossiers' keys in order (Builder keeps it). Two SIPs of the same dossiers as of two dates,
// or of two key sets with the same ends, have two names; a rerun that rebuilds a SIP writes the
// same bytes under the same name, so a crash never leaves two copies at the target.
func ID(profile, class string, tier retention.Tier, asOf civil.Date, keys []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "versement-sip/2\x00%s\x00%s\x00%s\x00%s\x00%x", profile, class, tier, asOf, keys)
	return fmt.Sprintf("%s-%s-%s-%s", FileSafe(profile), FileSafe(class), tier, hex.EncodeToString(h.Sum(nil)[:8]))
}

// FileSafe keeps the letters, digits, '.', '_' and '-' of s, replaces anything else with '_', and
// cuts it at 64 bytes: a name every archive and file system takes.
func FileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return b.String()
}

// ParseID reads back what an ID says of a SIP of profile: its class (one of classes) and its
// tier, from a name with or without .zip. ok is false for a name that is not one of profile's
// SIPs (another profile's, or another producer's). Class names may hold '-', so the class is
// matched against the profile's, longest first.
func ParseID(name, profile string, classes []string) (class string, tier retention.Tier, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSuffix(name, ".zip"), FileSafe(profile)+"-")
	if !found {
		return "", "", false
	}
	// A SIP rewritten by eliminations (RewrittenID) keeps its name and adds "-E" and 8 hex
	// digits per elimination.
	for {
		i := strings.LastIndex(rest, "-E")
		if i < 0 || len(rest)-i != 10 || strings.Trim(rest[i+2:], "0123456789ABCDEF") != "" {
			break
		}
		rest = rest[:i]
	}
	best := ""
	for _, c := range classes {
		if r, found := strings.CutPrefix(rest, FileSafe(c)+"-"); found && len(c) > len(best) {
			for _, t := range []retention.Tier{retention.Intermediate, retention.Final} {
				if h, found := strings.CutPrefix(r, string(t)+"-"); found && len(h) == 16 && strings.Trim(h, "0123456789abcdef") == "" {
					best, tier = c, t
				}
			}
		}
	}
	return best, tier, best != ""
}

// RewrittenID is the ID of a SIP rewritten without some of its dossiers under a visa (package
// eliminate): the old ID, "-E", and 8 hex digits of a digest of the visa and the keys dropped, in
// order. The same elimination of the same SIP gives the same name, so a rerun after a crash
// sends the same SIP again, not a second one; ParseID reads it as the old SIP's class and tier.
func RewrittenID(old, visa string, dropped []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "versement-rewrite/1\x00%s", visa)
	for _, k := range dropped {
		fmt.Fprintf(h, "\x00%s", k)
	}
	return strings.TrimSuffix(old, ".zip") + "-E" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:8])
}
