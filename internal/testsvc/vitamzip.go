package testsvc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// EnvCommonsCompress names the commons-compress jar VITAM's reader is taken from (default: Debian's
// libcommons-compress-java, /usr/share/java/commons-compress.jar).
const EnvCommonsCompress = "VERSEMENT_TEST_COMMONS_COMPRESS"

//go:embed vitamzip/StreamSIP.java
var streamSIPJava []byte

// StreamedEntry is one file of a SIP as a streaming reader saw it.
type StreamedEntry struct {
	Name   string
	Size   int64
	SHA256 string // lowercase hex
}

// Streamed is what VITAM's way of reading made of one SIP.
type Streamed struct {
	Path     string
	Manifest string // the root entry VITAM takes as the manifest
	Entries  []StreamedEntry
	Err      string // commons-compress's message when the SIP cannot be read as VITAM reads it
}

var (
	streamOnce  sync.Once
	streamClass string // folder holding StreamSIP.class
	streamJar   string
	streamErr   error
)

// StreamLikeVITAM reads each SIP as VITAM 7.0.1 does on ingest: one pass over the file with Apache
// commons-compress's ZipArchiveInputStream in its default settings (Debian's
// libcommons-compress-java on the JDK), finding the manifest by VITAM's name pattern. It needs
// javac, java and the jar; scripts/test installs them.
func StreamLikeVITAM(t testing.TB, paths ...string) []Streamed {
	t.Helper()
	streamOnce.Do(compileStreamSIP)
	if streamErr != nil {
		Unavailable(t, "VITAM's zip reader: %v", streamErr)
	}
	if len(paths) == 0 {
		return nil
	}
	java, err := exec.LookPath("java")
	if err != nil {
		Unavailable(t, "java not on PATH (Debian package default-jdk-headless)")
	}
	cmd := exec.Command(java, "-Xmx256m", "-cp", streamClass+string(os.PathListSeparator)+streamJar, "StreamSIP")
	cmd.Args = append(cmd.Args, paths...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("running VITAM's zip reader: %v", err)
	}
	res, perr := parseStreamed(out)
	if perr != nil || len(res) != len(paths) {
		t.Fatalf("VITAM's zip reader: %v (%d results for %d SIPs)\nstdout:\n%s\nstderr:\n%s", perr, len(res), len(paths), out, stderr.Bytes())
	}
	return res
}

func parseStreamed(out []byte) ([]Streamed, error) {
	var res []Streamed
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		kind, rest, _ := strings.Cut(line, " ")
		if kind == "SIP" {
			res = append(res, Streamed{Path: rest})
			continue
		}
		if len(res) == 0 {
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		cur := &res[len(res)-1]
		switch kind {
		case "E":
			f := strings.SplitN(rest, " ", 3)
			if len(f) != 3 {
				return nil, fmt.Errorf("bad entry line %q", line)
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad entry line %q", line)
			}
			cur.Entries = append(cur.Entries, StreamedEntry{Name: f[2], Size: n, SHA256: f[1]})
		case "M":
			cur.Manifest = rest
		case "OK":
		case "FAIL":
			_, msg, _ := strings.Cut(rest, "\t")
			cur.Err = msg
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
	}
	return res, sc.Err()
}

// compileStreamSIP compiles the reader once per test process, into a folder named after the
// source's digest so that packages tested in parallel share it without racing.
func compileStreamSIP() {
	streamJar = os.Getenv(EnvCommonsCompress)
	if streamJar == "" {
		streamJar = "/usr/share/java/commons-compress.jar"
	}
	if _, err := os.Stat(streamJar); err != nil {
		streamErr = fmt.Errorf("commons-compress jar %s is absent (Debian package libcommons-compress-java, or set %s)", streamJar, EnvCommonsCompress)
		return
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		streamErr = fmt.Errorf("javac not on PATH (Debian package default-jdk-headless)")
		return
	}
	sum := sha256.Sum256(append(streamSIPJava, streamJar...))
	dir := filepath.Join(os.TempDir(), "versement-streamsip-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "StreamSIP.class")); err == nil {
		streamClass = dir
		return
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "versement-streamsip-build-")
	if err != nil {
		streamErr = err
		return
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "StreamSIP.java")
	if err := os.WriteFile(src, streamSIPJava, 0o644); err != nil {
		streamErr = err
		return
	}
	if out, err := exec.Command(javac, "-nowarn", "-cp", streamJar, "-d", tmp, src).CombinedOutput(); err != nil {
		streamErr = fmt.Errorf("javac StreamSIP.java: %v\n%s", err, out)
		return
	}
	os.Remove(src)
	// Another process may have won the race: either folder is as good.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "StreamSIP.class")); serr != nil {
			streamErr = fmt.Errorf("installing StreamSIP.class: %v", err)
			return
		}
	}
	streamClass = dir
}
