package expr

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// likeToRegexp is a reference implementation of LIKE: the pattern
// translated to an anchored regular expression.
func likeToRegexp(pattern string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 == len(rs) {
				return nil, false
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '%':
			b.WriteString(`.*`)
		case '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String()), true
}

// TestLikeMatchesAReferenceImplementation compares the LIKE matcher with
// a regular expression translation on random strings and patterns.
func TestLikeMatchesAReferenceImplementation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	alphabet := []string{"a", "b", "é", "%", "_", `\`, "."}
	gen := func(n int, pattern bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			k := rng.IntN(len(alphabet))
			if !pattern && k >= 3 && k <= 5 {
				k = rng.IntN(3) // mostly letters in the text
			}
			b.WriteString(alphabet[k])
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		pattern := gen(rng.IntN(7), true)
		text := gen(rng.IntN(8), false)
		ref, ok := likeToRegexp(pattern)
		m, err := compileLike(pattern, false)
		if !ok {
			if err == nil {
				t.Fatalf("pattern %q ends in an escape but compiled", pattern)
			}
			continue
		}
		if err != nil {
			t.Fatalf("pattern %q: %v", pattern, err)
		}
		if got, want := m.match(text), ref.MatchString(text); got != want {
			t.Fatalf("%q LIKE %q: got %v, want %v", text, pattern, got, want)
		}
	}
}
