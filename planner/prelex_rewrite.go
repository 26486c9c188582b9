package planner

import (
	"sort"
	"strings"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file rewrites a statement's tokens into text the TiDB parser (in
// ANSI_QUOTES, PIPES_AS_CONCAT and NO_BACKSLASH_ESCAPES mode) reads the
// way PostgreSQL reads the original:
//
//	$n                  ?                      (ParamOrder records n-1)
//	E'a\n', $$x$$, N'x' 'a<newline>', 'x', 'x'  (a standard literal)
//	x::type             sluice_cast(x, 'type')
//	CAST(x AS type)     sluice_cast(x, 'type')
//	type 'lit'          sluice_cast('lit', 'type')  (DATE '...', int8 '5', ...)
//	INTERVAL '1 minute' sluice_interval('1 minute')
//	INTERVAL '5' SECOND sluice_interval('5 second')
//	INTERVAL 1 MINUTE   sluice_interval('1 minute')
//	a ~ b, a !~ b       a REGEXP b, a NOT REGEXP b
//	a ~* b, a !~* b     a REGEXP concat('(?i)', b), a NOT REGEXP concat('(?i)', b)
//	Name, "Name"        name, "Name"
//	comments            one space
//
// The rewrite keeps a map from every byte of its output back to the
// original text, so TiDB's syntax errors point into what the user wrote.
// Where PostgreSQL and MySQL would read the same tokens differently
// (operator precedence, LIMIT a, b, 'a' AS 'b') it fails with a position
// instead of guessing.

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

// keywords are the words that are not operands: a ( after them is not a
// function call, and a ~ after them is the unary operator.
var keywords = map[string]bool{
	"all": true, "and": true, "as": true, "asc": true, "between": true, "by": true,
	"create": true, "cross": true, "delete": true, "desc": true, "distinct": true,
	"div": true, "else": true, "end": true, "escape": true, "except": true, "fetch": true,
	"filter": true, "for": true, "from": true, "full": true, "group": true, "having": true,
	"ilike": true, "in": true, "inner": true, "insert": true, "intersect": true,
	"into": true, "is": true, "isnull": true, "join": true, "lateral": true, "left": true, "like": true,
	"limit": true, "mod": true, "natural": true, "not": true, "nulls": true,
	"notnull": true, "offset": true, "on": true, "or": true, "order": true, "outer": true, "over": true,
	"partition": true, "recursive": true, "regexp": true, "returning": true, "right": true,
	"rlike": true, "select": true, "set": true, "similar": true, "table": true,
	"then": true, "union": true, "update": true, "using": true, "values": true,
	"when": true, "where": true, "window": true, "with": true, "within": true, "xor": true,
}

// functionKeywords are keywords that are also function names when a (
// follows: left(s, 2).
var functionKeywords = map[string]bool{
	"left": true, "right": true, "mod": true, "insert": true, "isnull": true,
}

// comparisonWords are keywords at PostgreSQL's comparison level or below
// that mark the run after them as following a comparison (see opRun).
var comparisonWords = map[string]bool{
	"like": true, "ilike": true, "in": true, "between": true, "is": true,
	"similar": true, "regexp": true, "rlike": true,
}

// startsPrimary reports whether t starts an operand.
func (r *rewriter) startsPrimary(t *token) bool {
	switch t.kind {
	case tkQIdent, tkString, tkNumber, tkParam:
		return true
	case tkPunct:
		return t.text == "("
	case tkWord:
		if !keywords[t.text] {
			return true
		}
		return functionKeywords[t.text] && r.sigIs(1, "(")
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
			continue
		}
		var err error
		switch t.kind {
		case tkOp:
			operand, err = r.operator(t, operand, &g)
		case tkWord:
			err = r.keyword(t, &g)
			operand = false
		default:
			r.endRun(&g, false)
			r.take()
			g.start = len(r.out)
			operand = false
		}
		if err != nil {
			return err
		}
	}
}

// keyword emits a keyword and checks the MySQL readings of PostgreSQL
// text it introduces.
func (r *rewriter) keyword(t *token, g *opRun) error {
	switch t.text {
	case "as":
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
	if comparisonWords[t.text] && g.distinct {
		return r.ambiguous(t, "IS DISTINCT FROM", strings.ToUpper(t.text))
	}
	r.endRun(g, false)
	r.take()
	r.endRun(g, comparisonWords[t.text])
	return nil
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
	case t.kind == tkWord && typeStartWords[t.text] && r.typedLiteral():
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

// typeStartWords are the words a typed literal (int8 '5', DATE '...')
// may start with.
var typeStartWords = map[string]bool{
	"bigint": true, "bit": true, "bool": true, "boolean": true, "bytea": true, "char": true,
	"character": true, "date": true, "dec": true, "decimal": true, "double": true,
	"float": true, "float4": true, "float8": true, "int": true, "int2": true, "int4": true,
	"int8": true, "integer": true, "json": true, "jsonb": true, "name": true,
	"national": true, "nchar": true, "numeric": true, "real": true, "smallint": true,
	"text": true, "time": true, "timestamp": true, "timestamptz": true, "timetz": true,
	"uuid": true, "varchar": true,
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

// intervalUnits are the units INTERVAL 'n' unit and INTERVAL n unit
// take (MySQL's simple units; PostgreSQL's field keywords).
var intervalUnits = map[string]bool{
	"microsecond": true, "second": true, "minute": true, "hour": true,
	"day": true, "week": true, "month": true, "year": true,
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
	if u := r.sig(0); u != nil && u.kind == tkWord && intervalUnits[u.text] {
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
