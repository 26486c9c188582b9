package expr

import (
	"regexp"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// LIKE patterns are compiled once (per statement for literals, per call
// for parameters) into a likeMatcher; common shapes ('abc', 'abc%',
// '%abc', '%abc%') become plain string tests.

// invalidEscapeSequence is SQLSTATE 22025, which package sqlerr does not
// name yet.
const invalidEscapeSequence = sqlerr.InvalidEscapeSequence

type likeKind uint8

const (
	likeGeneral likeKind = iota
	likeExact
	likePrefix
	likeSuffix
	likeContains
	likeAll // '%'
)

// likeUnit is one piece of a segment: a literal string, or '_' (any one
// character) when any is set.
type likeUnit struct {
	any bool
	lit string
}

// likeMatcher is a compiled LIKE pattern: segments separated by runs of
// '%'. anchorStart is set when the pattern does not begin with '%' (the
// first segment must match at the start), anchorEnd likewise.
type likeMatcher struct {
	kind        likeKind
	lit         string
	segs        [][]likeUnit
	anchorStart bool
	anchorEnd   bool
	fold        bool // ILIKE: the input is lowered (the pattern already is)
}

// compileLike compiles a LIKE pattern with backslash escapes; ILIKE
// (fold) lowers pattern and input.
func compileLike(pattern string, fold bool) (*likeMatcher, error) {
	if fold {
		pattern = strings.ToLower(pattern)
	}
	m := &likeMatcher{fold: fold, anchorStart: true, anchorEnd: true}
	var seg []likeUnit
	var lit strings.Builder
	flushLit := func() {
		if lit.Len() > 0 {
			seg = append(seg, likeUnit{lit: lit.String()})
			lit.Reset()
		}
	}
	flushSeg := func() {
		flushLit()
		if len(seg) > 0 {
			m.segs = append(m.segs, seg)
			seg = nil
		}
	}
	percent := false
	for i := 0; i < len(pattern); i++ {
		switch ch := pattern[i]; ch {
		case '\\':
			if i+1 == len(pattern) {
				return nil, sqlerr.New(invalidEscapeSequence, "LIKE pattern must not end with escape character")
			}
			i++
			w := runeLen(pattern, i)
			lit.WriteString(pattern[i : i+w])
			i += w - 1
		case '_':
			flushLit()
			seg = append(seg, likeUnit{any: true})
		case '%':
			flushSeg()
			percent = true
			if i == 0 {
				m.anchorStart = false
			}
			if i == len(pattern)-1 {
				m.anchorEnd = false
			}
		default:
			lit.WriteByte(ch)
		}
	}
	flushSeg()
	if !percent && len(m.segs) == 0 {
		m.segs = [][]likeUnit{nil} // the empty pattern matches the empty string
	}
	m.classify(percent)
	return m, nil
}

// classify picks a fast path for simple patterns.
func (m *likeMatcher) classify(sawPercent bool) {
	for _, s := range m.segs {
		for _, u := range s {
			if u.any {
				return
			}
		}
	}
	litOf := func(s []likeUnit) string {
		var b strings.Builder
		for _, u := range s {
			b.WriteString(u.lit)
		}
		return b.String()
	}
	switch {
	case len(m.segs) == 0:
		if sawPercent {
			m.kind = likeAll
		} else {
			m.kind, m.lit = likeExact, ""
		}
	case len(m.segs) == 1:
		m.lit = litOf(m.segs[0])
		switch {
		case m.anchorStart && m.anchorEnd:
			m.kind = likeExact
		case m.anchorStart:
			m.kind = likePrefix
		case m.anchorEnd:
			m.kind = likeSuffix
		default:
			m.kind = likeContains
		}
	}
}

// match reports whether s matches the pattern.
func (m *likeMatcher) match(s string) bool {
	if m.fold {
		s = strings.ToLower(s)
	}
	switch m.kind {
	case likeAll:
		return true
	case likeExact:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	}
	segs := m.segs
	pos := 0
	if m.anchorStart {
		end, ok := matchSegAt(segs[0], s, 0)
		if !ok {
			return false
		}
		if len(segs) == 1 && m.anchorEnd {
			return end == len(s)
		}
		pos, segs = end, segs[1:]
	}
	var last []likeUnit
	if m.anchorEnd {
		if len(segs) == 0 {
			return pos == len(s)
		}
		last, segs = segs[len(segs)-1], segs[:len(segs)-1]
	}
	for _, seg := range segs {
		end, ok := findSeg(seg, s, pos)
		if !ok {
			return false
		}
		pos = end
	}
	if m.anchorEnd {
		start, ok := matchSegEnd(last, s)
		return ok && start >= pos
	}
	return true
}

// matchSegAt matches seg at byte i of s and returns where it ends.
func matchSegAt(seg []likeUnit, s string, i int) (int, bool) {
	for _, u := range seg {
		if u.any {
			if i >= len(s) {
				return 0, false
			}
			i += runeLen(s, i)
			continue
		}
		if !strings.HasPrefix(s[i:], u.lit) {
			return 0, false
		}
		i += len(u.lit)
	}
	return i, true
}

// matchSegEnd matches seg so that it ends at the end of s and returns
// where it starts.
func matchSegEnd(seg []likeUnit, s string) (int, bool) {
	j := len(s)
	for k := len(seg) - 1; k >= 0; k-- {
		u := seg[k]
		if u.any {
			if j == 0 {
				return 0, false
			}
			j--
			for j > 0 && s[j]&0xC0 == 0x80 {
				j--
			}
			continue
		}
		if !strings.HasSuffix(s[:j], u.lit) {
			return 0, false
		}
		j -= len(u.lit)
	}
	return j, true
}

// findSeg finds the leftmost match of seg in s at or after byte from and
// returns where it ends.
func findSeg(seg []likeUnit, s string, from int) (int, bool) {
	for i := from; i <= len(s); {
		if len(seg) > 0 && !seg[0].any {
			k := strings.Index(s[i:], seg[0].lit)
			if k < 0 {
				return 0, false
			}
			i += k
		}
		if end, ok := matchSegAt(seg, s, i); ok {
			return end, true
		}
		if i == len(s) {
			break
		}
		i += runeLen(s, i)
	}
	return 0, false
}

// likeKernel is LIKE (ILIKE with fold). pre is the matcher of a literal
// pattern compiled with the program (preErr its error), used when the
// pattern argument is that constant. A pattern is compiled, and its error
// raised, only when a non-NULL row needs it.
func likeKernel(fold bool, pre *likeMatcher, preErr error) kernel {
	return func(c *call) (arrow.Array, error) {
		s := textsOf(c.args[0])
		pats := textsOf(c.args[1])
		constPat := c.args[1].arr == nil
		var last *likeMatcher
		var lastPat string
		return mapBool(c, func(i int) (bool, error) {
			p := pats.at(i)
			if last == nil || (!constPat && p != lastPat) {
				var err error
				switch {
				case constPat && (pre != nil || preErr != nil):
					last, err = pre, preErr
				default:
					last, err = compileLike(p, fold)
				}
				if err != nil {
					return false, err
				}
				lastPat = p
			}
			return last.match(s.at(i)), nil
		})
	}
}

// compileRegex compiles a Go RE2 pattern, case-insensitive with fold; a
// bad pattern is 2201B.
func compileRegex(pattern string, fold bool) (*regexp.Regexp, error) {
	if fold {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, sqlerr.New(sqlerr.InvalidRegularExpression, "invalid regular expression: %w", err)
	}
	return re, nil
}

// regexKernel is regex_match (regex_imatch with fold), pre and preErr as
// for likeKernel.
func regexKernel(fold bool, pre *regexp.Regexp, preErr error) kernel {
	return func(c *call) (arrow.Array, error) {
		s := textsOf(c.args[0])
		pats := textsOf(c.args[1])
		constPat := c.args[1].arr == nil
		var last *regexp.Regexp
		var lastPat string
		return mapBool(c, func(i int) (bool, error) {
			p := pats.at(i)
			if last == nil || (!constPat && p != lastPat) {
				var err error
				switch {
				case constPat && (pre != nil || preErr != nil):
					last, err = pre, preErr
				default:
					last, err = compileRegex(p, fold)
				}
				if err != nil {
					return false, err
				}
				lastPat = p
			}
			return last.MatchString(s.at(i)), nil
		})
	}
}
