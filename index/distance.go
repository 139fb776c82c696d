package index

// Distance is the Damerau–Levenshtein distance between a and b (optimal string alignment: an
// insertion, a deletion, a substitution or a transposition of two adjacent letters each count 1),
// in letters, not bytes. When it exceeds max it returns max+1 without finishing, which is what
// makes checking fuzzy candidates cheap.
func Distance(a, b string, max int) int {
	if a == b {
		return 0
	}
	if len(b) < len(rowBuf{}) && ascii(a) && ascii(b) {
		return distanceASCII(a, b, max)
	}
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	n := len(rb)
	return alignment(ra, rb, max, make([]int, n+1), make([]int, n+1), make([]int, n+1))
}

// rowBuf is a row of distanceASCII's programme, on the stack: a search checks thousands of
// folded tokens, nearly all ASCII and short, and allocating three rows each was a tenth of its time.
type rowBuf [40]int

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// distanceASCII is Distance for ASCII strings, b shorter than a rowBuf: its rows on the stack.
func distanceASCII(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	var r0, r1, r2 rowBuf
	n := len(b)
	return alignment([]byte(a), []byte(b), max, r0[:n+1], r1[:n+1], r2[:n+1])
}

// alignment is the optimal-string-alignment programme over letters (bytes of ASCII text, or runes), on
// three rows of len(b)+1 given by the caller: the transposition looks two rows back.
func alignment[E byte | rune](a, b []E, max int, prev2, prev, cur []int) int {
	n := len(b)
	for j := 0; j <= n; j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := i
		for j := 1; j <= n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			low = min(low, v)
		}
		if low > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[n] > max {
		return max + 1
	}
	return prev[n]
}

// deletes are the strings made from s by deleting up to k of its letters, s itself included: two
// tokens within k edits of each other share one (the symmetric-delete method), which is how a
// store finds fuzzy candidates through an index rather than by comparing every token.
func deletes(s string, k int) []string {
	seen := map[string]bool{s: true}
	out := []string{s}
	level := []string{s}
	for ; k > 0; k-- {
		var next []string
		for _, w := range level {
			r := []rune(w)
			for i := range r {
				d := string(r[:i]) + string(r[i+1:])
				if d != "" && !seen[d] {
					seen[d] = true
					out = append(out, d)
					next = append(next, d)
				}
			}
		}
		level = next
	}
	return out
}
