package chain

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
)

// hashTail is how every line ends before its hash is filled in.
var hashTail = []byte(`,"hash":""}`)

// encode returns e's line (with newline) and its hash. e's Hash must be empty.
func encode[E any](e E) ([]byte, string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", err
	}
	if !bytes.HasSuffix(b, hashTail) {
		return nil, "", errors.New("internal error: hash is not the last field")
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(b)+len(h)+1)
	line = append(line, b[:len(b)-2]...) // up to `"hash":"`
	line = append(line, h...)
	line = append(line, '"', '}', '\n')
	return line, h, nil
}

// lineHash recomputes the hash of a written line (without its newline): the SHA-256 of the line
// with the value of its final "hash" field removed. ok is false if the line does not end that way.
func lineHash(body []byte) (recorded, computed string, ok bool) {
	const hexLen = 2 * sha256.Size
	if len(body) < hexLen+len(`,"hash":"`)+2 || !bytes.HasSuffix(body, []byte(`"}`)) {
		return "", "", false
	}
	valStart := len(body) - 2 - hexLen
	if !bytes.Equal(body[valStart-len(`,"hash":"`):valStart], []byte(`,"hash":"`)) {
		return "", "", false
	}
	recorded = string(body[valStart : len(body)-2])
	h := sha256.New()
	h.Write(body[:valStart])
	h.Write([]byte(`"}`))
	return recorded, hex.EncodeToString(h.Sum(nil)), true
}

var errLongLine = errors.New("line too long")

// readLine is bufio.Reader.ReadBytes('\n') that gives up with errLongLine past max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errLongLine
		}
		line = append(line, chunk...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
