package planner

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file is the Postgres lexer of the front: it cuts the user's SQL
// into tokens the way PostgreSQL's scanner does, keeping every token's
// byte span in the original text. Statement splitting (front.go), the
// front-handled statements (sluice_stmt.go) and the rewrite for the TiDB
// parser (prelex_rewrite.go) all work on these tokens, so strings,
// quoted identifiers, comments and dollar quotes are recognised in one
// place.

// tokKind is the kind of a token.
type tokKind uint8

const (
	tkSpace  tokKind = iota // whitespace or a comment
	tkWord                  // unquoted identifier or keyword, text lowercased
	tkQIdent                // "quoted identifier", val is the name
	tkString                // string literal in any form, val is its value
	tkNumber                // numeric literal, text as written
	tkParam                 // $n, n is the parameter number
	tkOp                    // operator: + - * / % < > = <= >= <> != || & | << >> ~ !~ ~* !~* ::
	tkPunct                 // ( ) , ; .
)

// String forms of tkString tokens.
const (
	strStandard = iota // 'abc' (and N'abc')
	strEscape          // E'a\nb'
	strDollar          // $$abc$$ or $tag$abc$tag$
)

// characterNotInRepertoire is SQLSTATE 22021, which catalog/sqlerr does
// not name yet: PostgreSQL's code for a NUL or invalid UTF-8 in a string.
const characterNotInRepertoire = sqlerr.CharacterNotInRepertoire

// token is one lexical token of the original SQL text.
type token struct {
	kind tokKind
	// pos and end are the token's byte span in the original text.
	pos, end int
	// text is the lowercased word, the operator or punctuation, or the
	// number as written.
	text string
	// val is the value of a string literal or a quoted identifier.
	val string
	// form is the string form of a tkString (strStandard, ...).
	form int
	// n is the number of a tkParam.
	n int
	// comment marks a tkSpace that holds a comment; newline marks one
	// that contains a line break (string continuation needs it).
	comment, newline bool
}

// is reports whether t is the significant token with text s (a
// lowercased word, an operator or punctuation).
func (t *token) is(s string) bool {
	return (t.kind == tkWord || t.kind == tkOp || t.kind == tkPunct) && t.text == s
}

// opChars are the characters PostgreSQL builds operators from (the
// backquote, also one, is rejected on its own).
const opChars = "~!@#^&|?+-*/%<>="

// isSupportedOp reports whether w is an operator the front passes on or
// translates.
func isSupportedOp(w string) bool {
	switch w {
	case "+", "-", "*", "/", "%", "<", ">", "=", "<=", ">=", "<>", "!=", "||", "&", "|",
		"<<", ">>", "~", "!~", "~*", "!~*":
		return true
	}
	return false
}

// lexer cuts one SQL text into tokens.
type lexer struct {
	src  string
	pos  int
	toks []token
}

// lex returns the tokens of src, spaces and comments included. A
// malformed token (an unterminated string, a bad escape, an operator
// Sluice does not support, ...) is an error with its position.
func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	if err := checkEncoding(src); err != nil {
		return nil, err
	}
	for l.pos < len(src) {
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	return l.toks, nil
}

func (l *lexer) peekByte(k int) byte {
	if l.pos+k < len(l.src) {
		return l.src[l.pos+k]
	}
	return 0
}

func (l *lexer) add(t token) {
	l.toks = append(l.toks, t)
	l.pos = t.end
}

// next lexes the token at l.pos.
func (l *lexer) next() error {
	s, i := l.src, l.pos
	c := s[i]
	c1 := l.peekByte(1)
	switch {
	case isSpace(c):
		j := i
		nl := false
		for j < len(s) && isSpace(s[j]) {
			nl = nl || s[j] == '\n'
			j++
		}
		l.add(token{kind: tkSpace, pos: i, end: j, newline: nl})
	case c == '-' && c1 == '-':
		j := strings.IndexAny(s[i:], "\r\n")
		if j < 0 {
			j = len(s)
		} else {
			j += i
		}
		l.add(token{kind: tkSpace, pos: i, end: j, comment: true})
	case c == '/' && c1 == '*':
		return l.blockComment()
	case c == '\'':
		return l.standardString(i, i)
	case (c == 'e' || c == 'E') && c1 == '\'':
		return l.escapeString()
	case (c == 'n' || c == 'N') && c1 == '\'':
		// A national character string: text to Sluice.
		return l.standardString(i, i+1)
	case (c == 'b' || c == 'B' || c == 'x' || c == 'X') && c1 == '\'':
		return l.errAt(sqlerr.FeatureNotSupported, i, "bit string literals are not supported")
	case (c == 'u' || c == 'U') && c1 == '&' && (l.peekByte(2) == '\'' || l.peekByte(2) == '"'):
		return l.errAt(sqlerr.FeatureNotSupported, i, "Unicode escape literals (U&) are not supported")
	case c == '"':
		return l.quotedIdent()
	case c == '$':
		return l.dollar()
	case isIdentStart(c):
		j := i + 1
		for j < len(s) && isIdentCont(s[j]) {
			j++
		}
		l.add(token{kind: tkWord, pos: i, end: j, text: asciiLower(s[i:j])})
	case isDigit(c) || (c == '.' && isDigit(c1)):
		return l.number()
	case c == '`':
		e := l.errAt(sqlerr.SyntaxError, i, "syntax error at or near \"`\"")
		e.Hint = "Quote identifiers with double quotes: \"name\"."
		return e
	case c == ':':
		switch c1 {
		case ':':
			l.add(token{kind: tkOp, pos: i, end: i + 2, text: "::"})
		case '=':
			return l.errAt(sqlerr.FeatureNotSupported, i, "operator := is not supported")
		default:
			l.add(token{kind: tkPunct, pos: i, end: i + 1, text: ":"})
		}
	case strings.IndexByte(opChars, c) >= 0:
		return l.operator()
	case strings.IndexByte("(),;.", c) >= 0:
		l.add(token{kind: tkPunct, pos: i, end: i + 1, text: s[i : i+1]})
	case c == '[' || c == ']':
		return l.errAt(sqlerr.FeatureNotSupported, i, "arrays are not supported")
	default:
		_, n := utf8.DecodeRuneInString(s[i:])
		return l.errAt(sqlerr.SyntaxError, i, "syntax error at or near \"%s\"", s[i:i+n])
	}
	return nil
}

// errAt returns an error of the given code at byte offset off of the
// text.
func (l *lexer) errAt(code string, off int, format string, args ...any) *sqlerr.Error {
	e := sqlerr.New(code, format, args...)
	e.Position = runePos(l.src, off)
	return e
}

// unterminated is PostgreSQL's error for a token that runs to the end of
// the text.
func (l *lexer) unterminated(what string, off int) error {
	return l.errAt(sqlerr.SyntaxError, off, "unterminated %s at or near \"%s\"", what, clip(l.src[off:]))
}

func (l *lexer) blockComment() error {
	s, i := l.src, l.pos
	depth, j := 0, i
	for j < len(s) {
		switch {
		case s[j] == '/' && j+1 < len(s) && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && j+1 < len(s) && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				l.add(token{kind: tkSpace, pos: i, end: j, comment: true})
				return nil
			}
		default:
			j++
		}
	}
	return l.unterminated("/* comment", i)
}

// standardString lexes '...', where a doubled quote is a quote and a
// backslash is itself (standard_conforming_strings). start is where the
// token starts (at an N prefix), q the opening quote.
func (l *lexer) standardString(start, q int) error {
	s := l.src
	var b strings.Builder
	j := q + 1
	for {
		k := strings.IndexByte(s[j:], '\'')
		if k < 0 {
			return l.unterminated("quoted string", start)
		}
		b.WriteString(s[j : j+k])
		j += k + 1
		if j < len(s) && s[j] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		break
	}
	l.add(token{kind: tkString, pos: start, end: j, val: b.String(), form: strStandard})
	return nil
}

// escapeString lexes E'...' with PostgreSQL's backslash escapes.
func (l *lexer) escapeString() error {
	s, start := l.src, l.pos
	var b []byte
	j := start + 2
	for {
		if j >= len(s) {
			return l.unterminated("quoted string", start)
		}
		c := s[j]
		switch {
		case c == '\'' && j+1 < len(s) && s[j+1] == '\'':
			b = append(b, '\'')
			j += 2
			continue
		case c == '\'':
			j++
		case c == '\\' && j+1 < len(s):
			n, err := l.escape(&b, j)
			if err != nil {
				return err
			}
			j = n
			continue
		default:
			b = append(b, c)
			j++
			continue
		}
		break
	}
	if !utf8.Valid(b) {
		return l.errAt(characterNotInRepertoire, start, "invalid byte sequence for encoding \"UTF8\" in string literal")
	}
	if strings.IndexByte(string(b), 0) >= 0 {
		return l.errAt(characterNotInRepertoire, start, "invalid byte sequence for encoding \"UTF8\": 0x00")
	}
	l.add(token{kind: tkString, pos: start, end: j, val: string(b), form: strEscape})
	return nil
}

// escape decodes the backslash escape at s[j] into b and returns the
// offset after it.
func (l *lexer) escape(b *[]byte, j int) (int, error) {
	s := l.src
	c := s[j+1]
	j += 2
	switch c {
	case 'b':
		*b = append(*b, '\b')
	case 'f':
		*b = append(*b, '\f')
	case 'n':
		*b = append(*b, '\n')
	case 'r':
		*b = append(*b, '\r')
	case 't':
		*b = append(*b, '\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := int(c - '0')
		for k := 0; k < 2 && j < len(s) && s[j] >= '0' && s[j] <= '7'; k++ {
			v = v*8 + int(s[j]-'0')
			j++
		}
		*b = append(*b, byte(v))
	case 'x':
		v, n := 0, 0
		for n < 2 && j < len(s) && isHex(s[j]) {
			v = v*16 + hexVal(s[j])
			j++
			n++
		}
		if n == 0 {
			*b = append(*b, 'x')
			break
		}
		*b = append(*b, byte(v))
	case 'u', 'U':
		width := 4
		if c == 'U' {
			width = 8
		}
		r, ok := hexRun(s, j, width)
		if !ok {
			return 0, l.errAt(sqlerr.SyntaxError, j-2, "invalid Unicode escape")
		}
		j += width
		if r >= 0xD800 && r <= 0xDBFF {
			// A high surrogate must be followed by a low one.
			lo, ok := rune(0), false
			if j+2 <= len(s) && s[j] == '\\' && (s[j+1] == 'u' || s[j+1] == 'U') {
				w := 4
				if s[j+1] == 'U' {
					w = 8
				}
				if lo, ok = hexRun(s, j+2, w); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					j += 2 + w
				} else {
					ok = false
				}
			}
			if !ok {
				return 0, l.errAt(sqlerr.SyntaxError, j-2-width, "invalid Unicode surrogate pair")
			}
		} else if (r >= 0xDC00 && r <= 0xDFFF) || r > utf8.MaxRune || r == 0 {
			return 0, l.errAt(sqlerr.SyntaxError, j-2-width, "invalid Unicode escape value")
		}
		*b = utf8.AppendRune(*b, r)
	default:
		// Any other escaped byte stands for itself (\\, \', ...). A
		// multi-byte character is copied whole by the following bytes.
		*b = append(*b, c)
	}
	return j, nil
}

func hexRun(s string, j, width int) (rune, bool) {
	if j+width > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[j:j+width], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

func (l *lexer) quotedIdent() error {
	s, start := l.src, l.pos
	var b strings.Builder
	j := start + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return l.unterminated("quoted identifier", start)
		}
		b.WriteString(s[j : j+k])
		j += k + 1
		if j < len(s) && s[j] == '"' {
			b.WriteByte('"')
			j++
			continue
		}
		break
	}
	if b.Len() == 0 {
		return l.errAt(sqlerr.SyntaxError, start, "zero-length delimited identifier at or near \"%s\"", s[start:j])
	}
	l.add(token{kind: tkQIdent, pos: start, end: j, val: b.String()})
	return nil
}

// dollar lexes $n and $tag$...$tag$.
func (l *lexer) dollar() error {
	s, start := l.src, l.pos
	j := start + 1
	if j < len(s) && isDigit(s[j]) {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j < len(s) && isIdentCont(s[j]) {
			k := j
			for k < len(s) && isIdentCont(s[k]) {
				k++
			}
			return l.errAt(sqlerr.SyntaxError, start, "trailing junk after parameter at or near \"%s\"", s[start:k])
		}
		n, err := strconv.Atoi(s[start+1 : j])
		if err != nil || n > 65535 {
			return l.errAt(sqlerr.UndefinedParameter, start, "there is no parameter %s", s[start:j])
		}
		if n == 0 {
			return l.errAt(sqlerr.UndefinedParameter, start, "there is no parameter $0")
		}
		l.add(token{kind: tkParam, pos: start, end: j, text: s[start:j], n: n})
		return nil
	}
	// A dollar quote: $$ or $tag$ where tag is an identifier without '$'.
	if j < len(s) && s[j] != '$' {
		if !isIdentStart(s[j]) {
			return l.errAt(sqlerr.SyntaxError, start, "syntax error at or near \"$\"")
		}
		for j < len(s) && isIdentCont(s[j]) && s[j] != '$' {
			j++
		}
	}
	if j >= len(s) || s[j] != '$' {
		return l.errAt(sqlerr.SyntaxError, start, "syntax error at or near \"%s\"", s[start:j])
	}
	delim := s[start : j+1]
	k := strings.Index(s[j+1:], delim)
	if k < 0 {
		return l.unterminated("dollar-quoted string", start)
	}
	val := s[j+1 : j+1+k]
	if strings.IndexByte(val, 0) >= 0 {
		return l.errAt(characterNotInRepertoire, start, "invalid byte sequence for encoding \"UTF8\": 0x00")
	}
	l.add(token{kind: tkString, pos: start, end: j + 1 + k + len(delim), val: val, form: strDollar})
	return nil
}

func (l *lexer) number() error {
	s, start := l.src, l.pos
	j := start
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' && !(j+1 < len(s) && s[j+1] == '.') {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(s) && isIdentStart(s[j]) {
		// PostgreSQL 15 would read 1abc as 1 AS abc and 0x1f as 0 AS
		// x1f, MySQL as an identifier or a hex number: refuse, as
		// PostgreSQL 16 does.
		k := j
		for k < len(s) && isIdentCont(s[k]) {
			k++
		}
		return l.errAt(sqlerr.SyntaxError, start, "trailing junk after numeric literal at or near \"%s\"", s[start:k])
	}
	l.add(token{kind: tkNumber, pos: start, end: j, text: s[start:j]})
	return nil
}

// operator lexes an operator by PostgreSQL's rules: the longest run of
// operator characters, cut before a comment start, and without trailing
// + or - unless it contains one of ~ ! @ # ^ & | ? % (so a=-1 is a = -1).
func (l *lexer) operator() error {
	s, start := l.src, l.pos
	j := start
	for j < len(s) && strings.IndexByte(opChars, s[j]) >= 0 {
		if j > start && j+1 < len(s) && ((s[j] == '-' && s[j+1] == '-') || (s[j] == '/' && s[j+1] == '*')) {
			break
		}
		j++
	}
	op := s[start:j]
	if len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') && !strings.ContainsAny(op, "~!@#^&|?%") {
		for len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') {
			op = op[:len(op)-1]
		}
	}
	switch {
	case strings.Contains(op, "?"):
		e := l.errAt(sqlerr.SyntaxError, start+strings.IndexByte(op, '?'), "syntax error at or near \"?\"")
		e.Hint = "Parameters are written $1, $2, ..."
		return e
	case strings.Contains(op, "#"):
		e := l.errAt(sqlerr.SyntaxError, start, "operator %s is not supported", op)
		if op == "#" {
			e.Hint = "# is not a comment in PostgreSQL; comments start with --."
		}
		return e
	case op == "^":
		e := l.errAt(sqlerr.FeatureNotSupported, start, "operator ^ is not supported")
		e.Hint = "Use power(a, b)."
		return e
	case !isSupportedOp(op):
		return l.errAt(sqlerr.UndefinedFunction, start, "operator does not exist: %s", op)
	}
	l.add(token{kind: tkOp, pos: start, end: start + len(op), text: op})
	return nil
}

// checkEncoding rejects text that is not UTF-8 or holds a NUL, as
// PostgreSQL does.
func checkEncoding(src string) error {
	for i, r := range src {
		bad := r == 0
		if r == utf8.RuneError {
			_, n := utf8.DecodeRuneInString(src[i:])
			bad = n == 1 // not a real U+FFFD
		}
		if bad {
			e := sqlerr.New(characterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x%02x", src[i])
			e.Position = runePos(src, i)
			return e
		}
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

func isIdentStart(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// asciiLower folds ASCII letters only, as PostgreSQL folds unquoted
// identifiers in a UTF-8 database.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if b[k] >= 'A' && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// runePos converts a byte offset of s into a 1-based character position.
func runePos(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off]) + 1
}

// clip shortens the text of an error message to its first line and at
// most 40 bytes, at a character boundary.
func clip(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
