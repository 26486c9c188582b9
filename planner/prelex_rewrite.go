package planner

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file rewrites a statement's tokens into text the TiDB parser (in
// ANSI_QUOTES, PIPES_AS_CONCAT and NO_BACKSLASH_ESCAPES mode) reads the
// way PostgreSQL reads the original:
//
//	$n                      ?  (ParamOrder records n-1)
//	E'a\n', $$x$$, N'x'      'a<newline>', 'x', 'x'  (standard literals)
//	'a'<newline>'b'         'ab'
//	x::type                 sluice_cast(x, 'type')
//	CAST(x AS type)         sluice_cast(x, 'type')
//	type 'lit'              sluice_cast('lit', 'type')  (DATE '...', int8 '5', ...)
//	INTERVAL '1 minute'     sluice_interval('1 minute')
//	INTERVAL '5' SECOND     sluice_interval('5 second')
//	INTERVAL 1 MINUTE       sluice_interval('1 minute')
//	a ~ b, a !~ b           a REGEXP b, a NOT REGEXP b
//	a ~* b, a !~* b         a REGEXP concat('(?i)', b), a NOT REGEXP concat('(?i)', b)
//	a IS NOT DISTINCT FROM b   a <=> b
//	a IS DISTINCT FROM b       a <=> b IS FALSE
//	a ISNULL, a NOTNULL     a IS NULL, a IS NOT NULL
//	t AS OF VERSION 3 AS r  t AS r AS OF TIMESTAMP sluice_version(3)
//	a || b * 2              a || (b * 2)  (see opRun)
//	a very long number      sluice_cast('digits', 'numeric')
//	CREATE TABLE types      the TiDB type of the same meaning (see tidbColumnType)
//	Name, "Name"            name, "Name"
//	comments                one space
//
// The rewrite keeps a map from every byte of its output back to the
// original text, so TiDB's syntax errors point into what the user wrote.
// Where PostgreSQL and MySQL would read the same tokens differently and
// the rewrite cannot say it TiDB's way (operator precedence, LIMIT a, b,
// 'a' AS 'b') it fails with a position instead of guessing.

// outTok is one piece of the rewritten text.
type outTok struct {
	text string
	// pos is the byte offset in the original text the piece stands for.
	pos int
	// exact is set when text is the original bytes at pos (up to ASCII
	// case), so an offset inside it maps to the same offset inside them.
	exact bool
	// kind is the kind of token the piece reads as.
	kind tokKind
}

// rewritten is the TiDB text of a statement and its map to the original.
type rewritten struct {
	text       string
	starts     []int // starts[k] is the offset of out[k] in text
	out        []outTok
	end        int // original byte offset just after the statement's last token
	paramOrder []int
	numParams  int
}

// origOffset maps a byte offset of the rewritten text to a byte offset
// of the original text.
func (rw *rewritten) origOffset(off int) int {
	if off >= len(rw.text) || len(rw.out) == 0 {
		return rw.end
	}
	k := sort.Search(len(rw.starts), func(k int) bool { return rw.starts[k] > off }) - 1
	if k < 0 {
		k = 0
	}
	o := rw.out[k]
	if o.exact {
		return o.pos + off - rw.starts[k]
	}
	return o.pos
}

// rewriter rewrites the tokens of one statement.
type rewriter struct {
	st       stmt
	toks     []token
	i        int // next token
	out      []outTok
	params   []int
	maxParam int
}

// rewrite turns a statement into TiDB text.
func rewrite(st stmt) (*rewritten, error) {
	r := &rewriter{st: st, toks: st.toks}
	if n := r.createTableHead(); n > 0 {
		if err := r.columnList(n); err != nil {
			return nil, err
		}
	}
	if err := r.seq(nil); err != nil {
		return nil, err
	}
	rw := &rewritten{out: r.out, paramOrder: r.params, numParams: r.maxParam}
	var b strings.Builder
	rw.starts = make([]int, len(r.out))
	for k, o := range r.out {
		rw.starts[k] = b.Len()
		b.WriteString(o.text)
	}
	rw.text = b.String()
	for k := len(st.toks) - 1; k >= 0; k-- {
		if st.toks[k].kind != tkSpace {
			rw.end = st.toks[k].end
			break
		}
	}
	return rw, nil
}

// sigIndex returns the index of the k-th significant token at or after
// r.i, or -1.
func (r *rewriter) sigIndex(k int) int {
	for i := r.i; i < len(r.toks); i++ {
		if r.toks[i].kind == tkSpace {
			continue
		}
		if k == 0 {
			return i
		}
		k--
	}
	return -1
}

// sig returns the k-th significant token at or after r.i, nil past the
// end.
func (r *rewriter) sig(k int) *token {
	if i := r.sigIndex(k); i >= 0 {
		return &r.toks[i]
	}
	return nil
}

// sigIs reports whether the k-th significant token is the word,
// operator or punctuation s.
func (r *rewriter) sigIs(k int, s string) bool {
	t := r.sig(k)
	return t != nil && t.is(s)
}

// skipSpace emits the spaces and comments before the next significant
// token.
func (r *rewriter) skipSpace() {
	for r.i < len(r.toks) && r.toks[r.i].kind == tkSpace {
		r.emit(&r.toks[r.i])
		r.i++
	}
}

// dropSpace skips the spaces and comments before the next significant
// token without emitting them.
func (r *rewriter) dropSpace() {
	for r.i < len(r.toks) && r.toks[r.i].kind == tkSpace {
		r.i++
	}
}

// take emits the next significant token (after its spaces) and returns
// it.
func (r *rewriter) take() *token {
	r.skipSpace()
	t := &r.toks[r.i]
	r.emit(t)
	r.i++
	return t
}

// emit writes a token's TiDB text.
func (r *rewriter) emit(t *token) {
	o := outTok{pos: t.pos, exact: true, kind: t.kind}
	switch t.kind {
	case tkSpace:
		if t.comment {
			o.text, o.exact = " ", false
		} else {
			o.text = r.st.src[t.pos:t.end]
		}
	case tkQIdent:
		o.text = r.st.src[t.pos:t.end]
	case tkString:
		if t.form == strStandard && r.st.src[t.pos] == '\'' {
			o.text = r.st.src[t.pos:t.end]
		} else {
			o.text, o.exact = quoteString(t.val), false
		}
	case tkParam:
		o.text, o.exact = "?", false
		r.params = append(r.params, t.n-1)
		r.maxParam = max(r.maxParam, t.n)
	default:
		o.text = t.text
	}
	r.out = append(r.out, o)
}

// synth writes text that stands for the original at pos.
func (r *rewriter) synth(text string, pos int, kind tokKind) {
	r.out = append(r.out, outTok{text: text, pos: pos, kind: kind})
}

// insert writes pieces before r.out[at].
func (r *rewriter) insert(at int, pieces ...outTok) {
	r.out = append(r.out[:at], append(pieces, r.out[at:]...)...)
}

func quoteString(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// errAt is a syntax error at t (or the end of the statement).
func (r *rewriter) errAt(t *token) error { return r.st.errAt(t) }

// errCode is an error with a code at t (or the end of the statement).
func (r *rewriter) errCode(code string, t *token, format string, args ...any) *sqlerr.Error {
	e := sqlerr.New(code, format, args...)
	if t != nil {
		e.Position = runePos(r.st.src, t.pos)
	} else {
		e.Position = r.st.endErr().Position
	}
	return e
}

// isKeyword reports whether the word w is not an operand: a ( after it
// is not a function call, and a ~ after it is the unary operator.
func isKeyword(w string) bool {
	switch w {
	case "all", "and", "as", "asc", "between", "by", "create", "cross", "delete", "desc",
		"distinct", "div", "else", "end", "escape", "except", "fetch", "filter", "for", "from",
		"full", "group", "having", "ilike", "in", "inner", "insert", "intersect", "into", "is",
		"isnull", "join", "lateral", "left", "like", "limit", "mod", "natural", "not", "nulls",
		"notnull", "offset", "on", "or", "order", "outer", "over", "partition", "recursive",
		"regexp", "returning", "right", "rlike", "select", "set", "similar", "table", "then",
		"union", "update", "using", "values", "when", "where", "window", "with", "within",
		"xor":
		return true
	}
	return false
}

// isFunctionKeyword reports whether the keyword w is also a function
// name when a ( follows: left(s, 2).
func isFunctionKeyword(w string) bool {
	switch w {
	case "left", "right", "mod", "insert", "isnull":
		return true
	}
	return false
}

// isComparisonWord reports whether the keyword w is at PostgreSQL's
// comparison level or below, so the run after it follows a comparison
// (see opRun).
func isComparisonWord(w string) bool {
	switch w {
	case "like", "ilike", "in", "between", "is", "similar", "regexp", "rlike":
		return true
	}
	return false
}

// startsPrimary reports whether t starts an operand.
func (r *rewriter) startsPrimary(t *token) bool {
	switch t.kind {
	case tkQIdent, tkString, tkNumber, tkParam:
		return true
	case tkPunct:
		return t.text == "("
	case tkWord:
		if !isKeyword(t.text) {
			return true
		}
		return isFunctionKeyword(t.text) && r.sigIs(1, "(")
	}
	return false
}

// stopAt returns a stop function for seq that stops before any of the
// words or punctuation ws.
func stopAt(ws ...string) func(*token) bool {
	return func(t *token) bool {
		for _, w := range ws {
			if t.is(w) {
				return true
			}
		}
		return false
	}
}

// opRun follows the binary operators of one run of an expression
// (between commas, keywords, comparisons and parentheses), where the
// precedence of PostgreSQL and MySQL differs:
//   - MySQL's || (PIPES_AS_CONCAT) binds tighter than * and +,
//     PostgreSQL's looser: the terms of a || with arithmetic in them are
//     parenthesised, a || b * 2 goes to TiDB as a || (b * 2).
//   - PostgreSQL gives ||, ~, &, |, << and >> one precedence, left to
//     right; MySQL gives each its own. Two different ones in a run are
//     refused (a & b | c, a ~ b || c).
//   - PostgreSQL's ~ binds tighter than =, MySQL's REGEXP does not:
//     a = b ~ c is refused.
//   - a IS [NOT] DISTINCT FROM b goes to TiDB as a <=> b (IS FALSE), where
//     <=> binds like =; a comparison after it in the run is refused.
type opRun struct {
	start     int    // index in r.out where the run starts
	other     string // the ||-level operator seen in the run ("~" for the regex family)
	cmp       bool   // the run follows a comparison
	concat    []int  // indexes in r.out of the run's || operators
	arith     []bool // arith[k]: the term before concat[k] has a binary + - * / %
	termArith bool   // the current term has a binary + - * / %
	distinct  bool   // the run follows IS [NOT] DISTINCT FROM
	isFalse   int    // when > 0, the run ends with IS FALSE standing for the original at isFalse-1
}

func (r *rewriter) ambiguous(t *token, a, b string) error {
	e := r.errCode(sqlerr.FeatureNotSupported, t, "operators %s and %s without parentheses are not supported", a, b)
	e.Hint = "PostgreSQL and MySQL give them different precedence; add parentheses."
	return e
}

// otherOp records a binary operator of the || level.
func (r *rewriter) otherOp(g *opRun, t *token) error {
	op := t.text
	if strings.Contains(op, "~") {
		op = "~"
	}
	if g.other != "" && g.other != op {
		return r.ambiguous(t, g.other, t.text)
	}
	if op == "~" && g.cmp {
		return r.ambiguous(t, "a comparison", t.text)
	}
	g.other = op
	if op == "||" {
		g.concat = append(g.concat, len(r.out))
		g.arith = append(g.arith, g.termArith)
		g.termArith = false
	}
	return nil
}

// endRun parenthesises the arithmetic terms of the run's || operators
// and starts a new run at the end of r.out.
func (r *rewriter) endRun(g *opRun, cmp bool) {
	if len(g.concat) > 0 {
		arith := append(g.arith, g.termArith)
		n := len(arith)
		for k := n - 1; k >= 0; k-- {
			if !arith[k] {
				continue
			}
			b, e := g.start, len(r.out)
			if k > 0 {
				b = g.concat[k-1] + 1
			}
			if k < n-1 {
				e = g.concat[k]
			}
			for b < e && r.out[b].kind == tkSpace {
				b++
			}
			for e > b && r.out[e-1].kind == tkSpace {
				e--
			}
			if b == e {
				continue
			}
			r.insert(e, outTok{text: ")", pos: r.out[e-1].pos, kind: tkPunct})
			r.insert(b, outTok{text: "(", pos: r.out[b].pos, kind: tkPunct})
		}
	}
	if g.isFalse > 0 {
		r.synth(" IS FALSE ", g.isFalse-1, tkWord)
	}
	*g = opRun{start: len(r.out), cmp: cmp}
}

// seq rewrites tokens until stop reports true for a significant token
// (left unconsumed) or the statement ends.
func (r *rewriter) seq(stop func(*token) bool) error {
	g := opRun{start: len(r.out)}
	operand := false // the last significant token ended an operand
	// orderItem is where the current ORDER BY item starts in r.out, -1
	// outside ORDER BY; sawLimit tells whether this level had a LIMIT.
	orderItem, sawLimit, prevWord := -1, false, ""
	for {
		r.skipSpace()
		if r.i >= len(r.toks) || (stop != nil && stop(&r.toks[r.i])) {
			r.endRun(&g, false)
			return nil
		}
		t := &r.toks[r.i]
		if r.startsPrimary(t) {
			if err := r.primary(); err != nil {
				return err
			}
			operand = true
			prevWord = ""
			continue
		}
		var err error
		switch t.kind {
		case tkOp:
			operand, err = r.operator(t, operand, &g)
			prevWord = ""
		case tkWord:
			word := t.text
			switch {
			case word == "nulls" && orderItem >= 0 && (r.sigIs(1, "first") || r.sigIs(1, "last")):
				r.endRun(&g, false)
				r.nullsOrder(orderItem)
				g.start = len(r.out)
				operand = false
				continue
			case word == "offset" && !sawLimit:
				// PostgreSQL allows OFFSET without LIMIT; MySQL does not.
				r.skipSpace()
				r.synth("LIMIT "+noLimit+" ", t.pos, tkWord)
			case word == "limit":
				sawLimit = true
			}
			err = r.keyword(t, &g)
			operand = false
			switch {
			case word == "by" && prevWord == "order":
				orderItem = len(r.out)
			case word == "limit" || word == "offset" || word == "fetch" || word == "for" ||
				word == "union" || word == "intersect" || word == "except":
				orderItem = -1
			}
			if word == "limit" && r.sigIs(0, "all") {
				// LIMIT ALL is no limit.
				r.dropSpace()
				all := &r.toks[r.i]
				r.i++
				r.synth(" "+noLimit, all.pos, tkNumber)
			}
			prevWord = word
		default:
			r.endRun(&g, false)
			r.take()
			g.start = len(r.out)
			operand = false
			if t.is(",") && orderItem >= 0 {
				orderItem = len(r.out)
			}
			prevWord = ""
		}
		if err != nil {
			return err
		}
	}
}

// noLimit is the LIMIT count that stands for no limit (LIMIT ALL, OFFSET
// without LIMIT); the binder reads it as none.
const noLimit = "18446744073709551615"

// nullsOrder rewrites the ORDER BY item that starts at r.out[start] and
// is followed by NULLS FIRST|LAST to sluice_nulls_first(item) [ASC|DESC]
// (or sluice_nulls_last), which MySQL's grammar can carry.
func (r *rewriter) nullsOrder(start int) {
	nulls := r.sig(0)
	which := r.sig(1)
	r.i = r.sigIndex(1) + 1
	end := len(r.out)
	for k := end - 1; k >= start; k-- {
		if r.out[k].kind == tkSpace {
			continue
		}
		if r.out[k].kind == tkWord && (r.out[k].text == "asc" || r.out[k].text == "desc") {
			end = k
		}
		break
	}
	r.insert(end, outTok{text: ") ", pos: which.pos, kind: tkPunct})
	r.insert(start, outTok{text: " sluice_nulls_" + which.text + "(", pos: nulls.pos, kind: tkWord})
}

// keyword emits a keyword and checks the MySQL readings of PostgreSQL
// text it introduces.
func (r *rewriter) keyword(t *token, g *opRun) error {
	switch t.text {
	case "as":
		if r.sigIs(1, "of") && r.sigIs(2, "version") {
			return r.asOfVersion(t, g)
		}
		// 'a' AS 'b' is an alias in MySQL, an error in PostgreSQL.
		if n := r.sig(1); n != nil && n.kind == tkString {
			return r.errAt(n)
		}
	case "limit":
		if err := r.checkLimit(); err != nil {
			return err
		}
	case "isnull", "notnull":
		// PostgreSQL's postfix a ISNULL; MySQL would read an alias.
		r.i++
		text := " IS NULL "
		if t.text == "notnull" {
			text = " IS NOT NULL "
		}
		r.synth(text, t.pos, tkWord)
		return nil
	case "is":
		if r.sigIs(1, "distinct") && r.sigIs(2, "from") || r.sigIs(1, "not") && r.sigIs(2, "distinct") && r.sigIs(3, "from") {
			return r.distinctFrom(t, g)
		}
	}
	if isComparisonWord(t.text) && g.distinct {
		return r.ambiguous(t, "IS DISTINCT FROM", strings.ToUpper(t.text))
	}
	r.endRun(g, false)
	r.take()
	r.endRun(g, isComparisonWord(t.text))
	return nil
}

// asOfVersion rewrites AS OF VERSION n after a table name (n an integer
// literal or a parameter) to TiDB's AS OF TIMESTAMP sluice_version(n),
// which the binder reads as a version. TiDB's grammar puts a table's
// alias before AS OF; the SQL standard's FOR SYSTEM_TIME AS OF puts it
// after. Both orders are accepted: an alias after the clause moves
// before it, so t AS OF VERSION 3 AS r goes to TiDB as
// t AS r AS OF TIMESTAMP sluice_version(3).
func (r *rewriter) asOfVersion(as *token, g *opRun) error {
	r.endRun(g, false)
	aliasBefore := r.aliasBefore()
	start := len(r.out)
	r.take() // as
	r.take() // of
	r.skipSpace()
	ver := &r.toks[r.i]
	r.i++
	r.synth("timestamp", ver.pos, tkWord)
	r.skipSpace()
	n := r.sig(0)
	if n == nil || (n.kind != tkNumber && n.kind != tkParam) || strings.ContainsAny(n.text, ".eE") {
		e := r.st.errAt(n)
		e.Hint = "AS OF VERSION takes a version number (an integer literal) or a parameter ($1)."
		return e
	}
	r.synth("sluice_version", n.pos, tkWord)
	r.synth("(", n.pos, tkPunct)
	r.take()
	r.synth(")", n.pos, tkPunct)
	// The alias after the clause, if any.
	k := 0
	if r.sigIs(0, "as") {
		k = 1
	}
	a := r.sig(k)
	if a == nil || !(a.kind == tkQIdent || a.kind == tkWord && (k == 1 || !isKeyword(a.text))) {
		return nil
	}
	if aliasBefore {
		e := r.st.errAt(r.sig(0))
		e.Hint = "A table has one alias: write it before AS OF VERSION or after, not both."
		return e
	}
	from := len(r.out)
	for range k + 1 {
		r.take()
	}
	alias := append([]outTok{}, r.out[from:]...)
	r.out = r.out[:from]
	r.insert(start, append(alias, outTok{text: " ", pos: as.pos, kind: tkSpace})...)
	return nil
}

// aliasBefore reports whether the table name before the AS at r.i has an
// alias already (t r AS OF ..., t AS r AS OF ...).
func (r *rewriter) aliasBefore() bool {
	var prev []*token
	for i := r.i - 1; i >= 0 && len(prev) < 2; i-- {
		if r.toks[i].kind != tkSpace {
			prev = append(prev, &r.toks[i])
		}
	}
	if len(prev) < 2 {
		return false
	}
	name := func(t *token) bool { return t.kind == tkQIdent || t.kind == tkWord && !isKeyword(t.text) }
	return name(prev[0]) && (name(prev[1]) || prev[1].is("as"))
}

// distinctFrom rewrites a IS [NOT] DISTINCT FROM b to a <=> b IS FALSE
// (a <=> b).
func (r *rewriter) distinctFrom(t *token, g *opRun) error {
	if g.distinct {
		return r.ambiguous(t, "IS DISTINCT FROM", "IS DISTINCT FROM")
	}
	r.endRun(g, false)
	not := r.sigIs(1, "not")
	n := 3
	if not {
		n = 4
	}
	r.i = r.sigIndex(n - 1)
	r.i++
	r.synth("<=>", t.pos, tkOp)
	r.endRun(g, true)
	g.distinct = true
	if !not {
		g.isFalse = t.pos + 1
	}
	return nil
}

// checkLimit refuses MySQL's LIMIT offset, count, which PostgreSQL
// rejects.
func (r *rewriter) checkLimit() error {
	depth := 0
	for i := r.sigIndex(1); i >= 0 && i < len(r.toks); i++ {
		t := &r.toks[i]
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			if depth == 0 {
				return nil
			}
			depth--
		case depth == 0 && t.is(","):
			e := r.errCode(sqlerr.SyntaxError, r.sig(0), "LIMIT #,# syntax is not supported")
			e.Hint = "Use separate LIMIT and OFFSET clauses."
			return e
		case depth == 0 && t.kind == tkWord && (t.text == "offset" || t.text == "for" || t.text == "union" ||
			t.text == "intersect" || t.text == "except" || t.text == "fetch"):
			return nil
		}
	}
	return nil
}

// operator rewrites an operator and reports whether it ended an operand
// (a ~* consumes its right operand).
func (r *rewriter) operator(t *token, operand bool, g *opRun) (bool, error) {
	switch t.text {
	case "::":
		return false, r.errAt(t)
	case "~", "!~", "~*", "!~*":
		if !operand {
			if t.text == "~" { // unary: bitwise not
				r.take()
				return false, nil
			}
			return false, r.errAt(t)
		}
		return r.regex(t, g)
	case "+", "-", "*", "/", "%":
		if operand {
			g.termArith = true
		}
	case "||", "&", "|", "<<", ">>":
		if operand {
			if err := r.otherOp(g, t); err != nil {
				return false, err
			}
		}
	case "=", "<", ">", "<=", ">=", "<>", "!=":
		if g.distinct {
			return false, r.ambiguous(t, "IS DISTINCT FROM", t.text)
		}
		r.endRun(g, false)
		r.take()
		r.endRun(g, true)
		return false, nil
	}
	r.take()
	return false, nil
}

// regex rewrites a ~ b, a !~ b, a ~* b and a !~* b.
func (r *rewriter) regex(t *token, g *opRun) (bool, error) {
	if err := r.otherOp(g, t); err != nil {
		return false, err
	}
	r.skipSpace()
	r.i++
	op := " REGEXP "
	if strings.HasPrefix(t.text, "!") {
		op = " NOT REGEXP "
	}
	r.synth(op, t.pos, tkOp)
	if !strings.HasSuffix(t.text, "*") {
		return false, nil
	}
	r.dropSpace()
	n := r.sig(0)
	if n == nil || !r.startsPrimary(n) {
		return false, r.errAt(n)
	}
	r.synth("concat", t.pos, tkWord)
	r.synth("(", t.pos, tkPunct)
	r.synth("'(?i)'", t.pos, tkString)
	r.synth(", ", t.pos, tkPunct)
	if err := r.primary(); err != nil {
		return false, err
	}
	r.synth(")", t.pos, tkPunct)
	if n := r.sig(0); n != nil && n.kind == tkOp && strings.Contains("+-*/%", n.text) {
		e := r.errCode(sqlerr.FeatureNotSupported, n, "the right operand of %s must be a single term here", t.text)
		e.Hint = "Add parentheses around it."
		return false, e
	}
	return true, nil
}

// primary rewrites one operand: a literal, a parameter, a name chain, a
// function call, a parenthesised group, CASE ... END, CAST(...), an
// INTERVAL or typed literal, each followed by any number of ::type.
func (r *rewriter) primary() error {
	start := len(r.out)
	t := &r.toks[r.i]
	var err error
	switch {
	case t.is("("):
		err = r.group()
	case t.kind == tkWord && t.text == "case":
		r.take()
		if err = r.seq(stopAt("end", ")")); err == nil && r.sigIs(0, "end") {
			r.take()
		}
	case t.kind == tkWord && t.text == "cast" && r.sigIs(1, "("):
		err = r.cast()
	case t.kind == tkWord && t.text == "interval" && r.intervalFollows():
		err = r.interval()
	case t.kind == tkWord && isTypeStart(t.text) && r.typedLiteral():
		// rewritten
	case t.kind == tkWord || t.kind == tkQIdent:
		err = r.nameChain()
	case t.kind == tkString:
		err = r.stringLit()
	case t.kind == tkNumber && tooLongForTiDB(t.text):
		r.dropSpace()
		r.i++
		r.synth("sluice_cast", t.pos, tkWord)
		r.synth("(", t.pos, tkPunct)
		r.synth(quoteString(t.text), t.pos, tkString)
		r.synth(", 'numeric')", t.pos, tkPunct)
	default: // number, parameter
		r.take()
	}
	if err != nil {
		return err
	}
	for r.sigIs(0, "::") {
		r.dropSpace()
		op := &r.toks[r.i]
		r.i++
		typ, err := r.typeName()
		if err != nil {
			return err
		}
		pos := op.pos
		if start < len(r.out) {
			pos = r.out[start].pos
		}
		r.insert(start, outTok{text: "sluice_cast", pos: pos, kind: tkWord}, outTok{text: "(", pos: pos, kind: tkPunct})
		r.synth(", ", op.pos, tkPunct)
		r.synth(quoteString(typ), op.pos, tkString)
		r.synth(")", op.pos, tkPunct)
	}
	return nil
}

// createTableHead returns the number of significant tokens up to and
// including the ( of CREATE [TEMP] TABLE [IF NOT EXISTS] name (, or 0
// when the statement does not start so.
func (r *rewriter) createTableHead() int {
	k := 0
	word := func(ws ...string) bool {
		for _, w := range ws {
			if r.sigIs(k, w) {
				k++
				return true
			}
		}
		return false
	}
	if !word("create") {
		return 0
	}
	word("temp", "temporary", "unlogged")
	if !word("table") {
		return 0
	}
	if word("if") && !(word("not") && word("exists")) {
		return 0
	}
	for {
		t := r.sig(k)
		if t == nil || (t.kind != tkWord && t.kind != tkQIdent) {
			return 0
		}
		k++
		if !word(".") {
			break
		}
	}
	if !word("(") {
		return 0
	}
	return k
}

// isTableConstraintWord reports whether w starts an element of a column
// list that is not a column definition.
func isTableConstraintWord(w string) bool {
	switch w {
	case "constraint", "primary", "unique", "check", "foreign", "key", "index", "like",
		"exclude":
		return true
	}
	return false
}

// columnList rewrites the column definitions of a CREATE TABLE whose
// head is the first n significant tokens: each column's PostgreSQL type
// becomes the TiDB type that means the same (see tidbColumnType).
func (r *rewriter) columnList(n int) error {
	for range n {
		r.take()
	}
	for {
		t := r.sig(0)
		switch {
		case t == nil:
			return nil
		case t.is(")"):
			r.take()
			return nil
		case t.kind == tkQIdent || (t.kind == tkWord && !isTableConstraintWord(t.text)):
			r.take() // the column name
			if err := r.columnType(); err != nil {
				return err
			}
		}
		if err := r.seq(stopAt(",", ")")); err != nil {
			return err
		}
		if r.sigIs(0, ",") {
			r.take()
		}
	}
}

// columnType rewrites a column's type where TiDB would reject it or read
// it differently; other types are left to TiDB.
func (r *rewriter) columnType() error {
	save := r.i
	t := r.sig(0)
	typ, err := r.typeName()
	if err != nil {
		r.i = save
		return nil // TiDB reports it
	}
	out, err := tidbColumnType(typ)
	if err != nil {
		e := r.errCode(sqlerr.FeatureNotSupported, t, "%v", err)
		return e
	}
	if out == "" {
		r.i = save
		return nil
	}
	r.synth(" "+out, t.pos, tkWord)
	return nil
}

// tidbColumnType returns the TiDB column type for a normalised
// PostgreSQL type name where the two differ ("" where TiDB reads the
// name as PostgreSQL does): MySQL's REAL is a double and its FLOAT a
// single, TiDB knows no TIMESTAMP WITHOUT TIME ZONE and no VARCHAR
// without a length.
func tidbColumnType(typ string) (string, error) {
	base, mods := typ, ""
	if i := strings.IndexByte(typ, '('); i >= 0 {
		j := strings.IndexByte(typ, ')')
		base, mods = strings.TrimSpace(typ[:i]+typ[j+1:]), typ[i:j+1]
	}
	switch base {
	case "real", "float4":
		return "FLOAT", nil
	case "float8", "double precision":
		return "DOUBLE", nil
	case "float":
		if p, err := strconv.Atoi(strings.Trim(mods, "()")); err == nil && p >= 1 && p <= 24 {
			return "FLOAT", nil
		}
		return "DOUBLE", nil
	case "timestamp", "timestamp without time zone":
		return "TIMESTAMP" + mods, nil
	case "timestamptz", "timestamp with time zone":
		return "", errors.New("type timestamp with time zone is not supported")
	case "varchar", "character varying", "char varying":
		if mods == "" {
			return "TEXT", nil
		}
		return "VARCHAR" + mods, nil
	case "serial", "serial2", "serial4", "serial8", "smallserial", "bigserial":
		return "", fmt.Errorf("type %s is not supported", base)
	}
	return "", nil
}

// tooLongForTiDB reports whether a number without an exponent has more
// digits than the TiDB parser's decimal holds (9 words of 9 digits for
// the integer and fraction parts; it panics beyond). Such a literal goes
// to TiDB as sluice_cast('digits', 'numeric'), PostgreSQL's type for it.
func tooLongForTiDB(num string) bool {
	if strings.ContainsAny(num, "eE") {
		return false
	}
	intPart, frac, _ := strings.Cut(num, ".")
	words := func(n int) int { return (n + 8) / 9 }
	return words(len(intPart))+words(len(frac)) > 9
}

// group rewrites ( ... ).
func (r *rewriter) group() error {
	r.take()
	if err := r.seq(stopAt(")")); err != nil {
		return err
	}
	if r.sigIs(0, ")") {
		r.take()
	}
	return nil
}

// nameChain rewrites a name, a dotted chain of names (a.b."C", t.*) and
// a function call on it.
func (r *rewriter) nameChain() error {
	if t := r.sig(0); t.kind == tkWord && t.text == "concat" && r.sigIs(1, "(") {
		// TiDB parses a || b as concat(a, b); the user's concat() gets
		// its own name so the binder can tell the two apart.
		r.skipSpace()
		r.i++
		r.synth("sluice_concat", t.pos, tkWord)
		return r.group()
	}
	r.take()
	for r.sigIs(0, ".") {
		n := r.sig(1)
		if n == nil || !(n.kind == tkWord || n.kind == tkQIdent || n.is("*")) {
			break
		}
		r.take()
		r.take()
		if n.is("*") {
			return nil
		}
	}
	if r.sigIs(0, "(") {
		return r.group()
	}
	return nil
}

// stringLit rewrites a string literal and the literals continuing it
// on the next lines ('a'<newline>'b' is 'ab' in PostgreSQL).
func (r *rewriter) stringLit() error {
	r.skipSpace()
	first := &r.toks[r.i]
	r.i++
	val := first.val
	joined := false
	for {
		n := r.sigIndex(0)
		if n < 0 || r.toks[n].kind != tkString {
			break
		}
		next := &r.toks[n]
		// PostgreSQL continues a literal over spaces and -- comments
		// with a line break, not over /* comments */.
		newline := false
		for k := r.i; k < n; k++ {
			if r.toks[k].comment && strings.HasPrefix(r.st.src[r.toks[k].pos:], "/*") {
				newline = false
				break
			}
			newline = newline || r.toks[k].newline
		}
		if !newline || first.form == strDollar || next.form != strStandard || r.st.src[next.pos] != '\'' {
			return r.errAt(next)
		}
		if first.form == strEscape && strings.Contains(r.st.src[next.pos:next.end], `\`) {
			return r.errCode(sqlerr.FeatureNotSupported, next, "continuing an escape string literal with backslashes is not supported")
		}
		val += next.val
		joined = true
		r.i = n + 1
	}
	if !joined {
		r.i--
		r.emit(first)
		r.i++
		return nil
	}
	r.synth(quoteString(val), first.pos, tkString)
	return nil
}

// cast rewrites CAST(x AS type).
func (r *rewriter) cast() error {
	r.dropSpace()
	kw := &r.toks[r.i]
	r.i++
	r.dropSpace()
	lp := &r.toks[r.i]
	r.i++
	r.synth("sluice_cast", kw.pos, tkWord)
	r.synth("(", lp.pos, tkPunct)
	if err := r.seq(stopAt("as", ")")); err != nil {
		return err
	}
	as := r.sig(0)
	if as == nil {
		return nil // TiDB reports the end of input
	}
	if !as.is("as") {
		return r.errAt(as)
	}
	r.dropSpace()
	r.i++
	typ, err := r.typeName()
	if err != nil {
		return err
	}
	r.synth(", ", as.pos, tkPunct)
	r.synth(quoteString(typ), as.pos, tkString)
	if n := r.sig(0); n == nil || !n.is(")") {
		return r.errAt(n)
	}
	r.take()
	return nil
}

// isTypeStart reports whether a typed literal (int8 '5', DATE '...')
// may start with the word w.
func isTypeStart(w string) bool {
	switch w {
	case "bigint", "bit", "bool", "boolean", "bytea", "char", "character", "date", "dec",
		"decimal", "double", "float", "float4", "float8", "int", "int2", "int4", "int8",
		"integer", "json", "jsonb", "name", "national", "nchar", "numeric", "real", "smallint",
		"text", "time", "timestamp", "timestamptz", "timetz", "uuid", "varchar":
		return true
	}
	return false
}

// typedLiteral rewrites type 'literal' to sluice_cast('literal', 'type')
// and reports whether the tokens were one; if not it consumes nothing.
func (r *rewriter) typedLiteral() bool {
	save := r.i
	r.dropSpace()
	kw := r.toks[r.i]
	typ, err := r.typeName()
	lit := r.sig(0)
	if err != nil || lit == nil || lit.kind != tkString {
		r.i = save
		return false
	}
	r.synth("sluice_cast", kw.pos, tkWord)
	r.synth("(", kw.pos, tkPunct)
	r.dropSpace()
	if r.stringLit() != nil {
		// A malformed continuation: let the word stand alone.
		r.i = save
		r.out = r.out[:len(r.out)-2]
		return false
	}
	r.synth(", ", kw.pos, tkPunct)
	r.synth(quoteString(typ), kw.pos, tkString)
	r.synth(")", kw.pos, tkPunct)
	return true
}

// typeName parses a type name after :: or AS and returns it normalised:
// lowercase, single spaces, modifiers attached ("varchar(10)",
// "double precision", "timestamp(3) with time zone"). A pg_catalog.
// qualifier is dropped.
func (r *rewriter) typeName() (string, error) {
	t := r.sig(0)
	if t == nil || (t.kind != tkWord && t.kind != tkQIdent) {
		return "", r.errAt(t)
	}
	word := func(t *token) string {
		if t.kind == tkQIdent {
			return t.val
		}
		return t.text
	}
	r.dropSpace()
	r.i++
	name := word(t)
	if n := r.sig(1); r.sigIs(0, ".") && n != nil && (n.kind == tkWord || n.kind == tkQIdent) {
		r.dropSpace()
		r.i++
		r.dropSpace()
		r.i++
		if name == "pg_catalog" {
			name = word(n)
		} else {
			name += "." + word(n)
		}
	}
	var b strings.Builder
	b.WriteString(name)
	accept := func(ws ...string) bool {
		for _, w := range ws {
			if r.sigIs(0, w) {
				r.dropSpace()
				r.i++
				b.WriteString(" " + w)
				return true
			}
		}
		return false
	}
	switch name {
	case "double":
		accept("precision")
	case "national":
		if !accept("character", "char") {
			return "", r.errAt(r.sig(0))
		}
		accept("varying")
	case "character", "char", "bit", "nchar":
		accept("varying")
	case "interval":
		if accept("year", "month", "day", "hour", "minute", "second") && r.sigIs(0, "to") {
			accept("to")
			if !accept("month", "hour", "minute", "second") {
				return "", r.errAt(r.sig(0))
			}
		}
	}
	if r.sigIs(0, "(") {
		mods, err := r.typeModifiers()
		if err != nil {
			return "", err
		}
		b.WriteString(mods)
	}
	if name == "timestamp" || name == "time" {
		if r.sigIs(0, "with") || r.sigIs(0, "without") {
			accept("with", "without")
			if !r.sigIs(0, "time") || !r.sigIs(1, "zone") {
				return "", r.errAt(r.sig(0))
			}
			accept("time")
			accept("zone")
		}
	}
	return b.String(), nil
}

// typeModifiers parses (n) or (n, m) after a type name.
func (r *rewriter) typeModifiers() (string, error) {
	r.dropSpace()
	r.i++ // (
	var mods []string
	for {
		t := r.sig(0)
		if t == nil || t.kind != tkNumber || strings.ContainsAny(t.text, ".eE") {
			return "", r.errAt(t)
		}
		mods = append(mods, t.text)
		r.dropSpace()
		r.i++
		t = r.sig(0)
		switch {
		case t != nil && t.is(","):
			r.dropSpace()
			r.i++
			continue
		case t != nil && t.is(")"):
			r.dropSpace()
			r.i++
			return "(" + strings.Join(mods, ",") + ")", nil
		}
		return "", r.errAt(t)
	}
}

// isIntervalUnit reports whether w is a unit of INTERVAL 'n' unit and
// INTERVAL n unit (MySQL's simple units; PostgreSQL's field keywords).
func isIntervalUnit(w string) bool {
	switch w {
	case "microsecond", "second", "minute", "hour", "day", "week", "month", "year":
		return true
	}
	return false
}

// intervalFollows reports whether the INTERVAL at r.i is followed by a
// literal (a string, or a possibly signed number).
func (r *rewriter) intervalFollows() bool {
	n := r.sig(1)
	if n == nil {
		return false
	}
	if n.kind == tkString || n.kind == tkNumber {
		return true
	}
	m := r.sig(2)
	return (n.is("-") || n.is("+")) && m != nil && m.kind == tkNumber
}

// interval rewrites INTERVAL 'text', INTERVAL 'n' unit and INTERVAL n
// unit to sluice_interval('text').
func (r *rewriter) interval() error {
	r.dropSpace()
	kw := &r.toks[r.i]
	r.i++
	sign := ""
	if r.sigIs(0, "-") || r.sigIs(0, "+") {
		if r.sig(0).text == "-" {
			sign = "-"
		}
		r.dropSpace()
		r.i++
	}
	r.dropSpace()
	lit := &r.toks[r.i]
	r.i++
	text := lit.val
	if lit.kind == tkNumber {
		text = sign + lit.text
	}
	if u := r.sig(0); u != nil && u.kind == tkWord && isIntervalUnit(u.text) {
		if r.sigIs(1, "to") {
			return r.errCode(sqlerr.FeatureNotSupported, r.sig(1), "interval field ranges (%s TO ...) are not supported", strings.ToUpper(u.text))
		}
		if lit.kind == tkString && !isPlainNumber(strings.TrimSpace(text)) {
			e := r.errCode(sqlerr.FeatureNotSupported, u, "INTERVAL '...' %s is supported only with a number", strings.ToUpper(u.text))
			e.Hint = "Write the unit inside the string: INTERVAL '1 day 2 hours'."
			return e
		}
		r.dropSpace()
		r.i++
		text = strings.TrimSpace(text) + " " + u.text
	} else if lit.kind == tkNumber {
		return r.errAt(lit)
	}
	r.synth("sluice_interval", kw.pos, tkWord)
	r.synth("(", kw.pos, tkPunct)
	r.synth(quoteString(text), lit.pos, tkString)
	r.synth(")", kw.pos, tkPunct)
	return nil
}

// isPlainNumber reports whether s is an optionally signed decimal
// number.
func isPlainNumber(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			digits++
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
