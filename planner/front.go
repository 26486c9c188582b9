package planner

import (
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	// The TiDB parser needs a value driver for its literals.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// Parser parses the SQL of one session. It is not safe for concurrent
// use: the TiDB parser inside it keeps state between calls.
type Parser struct {
	tidb *parser.Parser
}

// tidbSQLMode is the SQL mode the TiDB parser runs in: "..." quotes
// identifiers, || concatenates, and a backslash in a string is itself.
const tidbSQLMode = mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes

// NewParser returns a parser for one session.
func NewParser() *Parser {
	p := parser.New()
	p.SetSQLMode(tidbSQLMode)
	return &Parser{tidb: p}
}

// Parsed is one parsed statement.
type Parsed struct {
	// Text is the original text of the statement, without the ';' and
	// the spaces and comments around it.
	Text string
	// AST is the TiDB AST of the rewritten text; nil when Stmt is set.
	AST ast.StmtNode
	// Stmt is a statement the front handles itself; nil when AST is set.
	Stmt SluiceStmt
	// ParamOrder[k] is n-1 for the k-th parameter marker of AST (the
	// *test_driver.ParamMarkerExpr whose Order is k, in text order), which
	// stood for $n in the original text.
	ParamOrder []int
	// NumParams is the highest n of the $n used.
	NumParams int
}

// Parse splits sql into statements at the ';' outside strings, quoted
// identifiers, comments and dollar quotes, and parses each. Empty
// statements are dropped, so "", ";" and "-- c" give none. An error in
// any statement fails the whole call: a syntax error is a *sqlerr.Error
// with code 42601 and the 1-based character position in sql.
func (p *Parser) Parse(sql string) ([]Parsed, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	var out []Parsed
	for _, st := range split(sql, toks) {
		if st.empty() {
			continue
		}
		ps, err := p.parseStmt(st)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// stmt is the token range of one statement.
type stmt struct {
	src  string  // the whole original text
	toks []token // the statement's tokens, spaces included, without the ';'
	semi int     // byte offset of the ';' that ends it, -1 at end of text
}

// split cuts tokens into statements at ';'.
func split(src string, toks []token) []stmt {
	var out []stmt
	start := 0
	for i := range toks {
		if toks[i].kind == tkPunct && toks[i].text == ";" {
			out = append(out, stmt{src: src, toks: toks[start:i], semi: toks[i].pos})
			start = i + 1
		}
	}
	return append(out, stmt{src: src, toks: toks[start:], semi: -1})
}

// empty reports whether the statement has only spaces and comments.
func (s stmt) empty() bool {
	for i := range s.toks {
		if s.toks[i].kind != tkSpace {
			return false
		}
	}
	return true
}

// text returns the original text from the first to the last significant
// token.
func (s stmt) text() string {
	first, last := -1, -1
	for i := range s.toks {
		if s.toks[i].kind != tkSpace {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return ""
	}
	return s.src[s.toks[first].pos:s.toks[last].end]
}

// errAt returns PostgreSQL's syntax error for the token t of the
// statement, or for its end when t is nil.
func (s stmt) errAt(t *token) *sqlerr.Error {
	if t == nil {
		return s.endErr()
	}
	e := sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"%s\"", s.src[t.pos:t.end])
	e.Position = runePos(s.src, t.pos)
	return e
}

// endErr is the syntax error for a statement that ends too early:
// PostgreSQL reports the ';' that ends it or the end of the text.
func (s stmt) endErr() *sqlerr.Error {
	if s.semi >= 0 {
		e := sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \";\"")
		e.Position = runePos(s.src, s.semi)
		return e
	}
	e := sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input")
	e.Position = runePos(s.src, len(s.src))
	return e
}

// featureErr returns a 0A000 error at the token t (or the statement's
// end when t is nil).
func (s stmt) featureErr(t *token, format string, args ...any) *sqlerr.Error {
	e := sqlerr.New(sqlerr.FeatureNotSupported, format, args...)
	if t != nil {
		e.Position = runePos(s.src, t.pos)
	} else {
		e.Position = s.endErr().Position
	}
	return e
}

// parseStmt parses one non-empty statement: by the front when its
// leading words name a statement the front handles, else by TiDB.
func (p *Parser) parseStmt(st stmt) (Parsed, error) {
	c := &cursor{st: st}
	if first := c.peek(); first != nil && first.kind == tkWord {
		if parse := frontStatement(first.text); parse != nil {
			s, err := parse(p, c)
			if err != nil {
				return Parsed{}, err
			}
			if s != nil {
				if ex, ok := s.(*ExplainStmt); ok {
					return Parsed{Text: st.text(), Stmt: s, NumParams: ex.Inner.NumParams}, nil
				}
				return Parsed{Text: st.text(), Stmt: s}, nil
			}
		}
	}
	return p.parseTiDB(st)
}

// cursor walks the significant tokens of a statement for the front's
// own statement parsers.
type cursor struct {
	st stmt
	i  int // index into st.toks
}

// peekN returns the k-th significant token from the cursor, nil past the
// end.
func (c *cursor) peekN(k int) *token {
	for i := c.i; i < len(c.st.toks); i++ {
		if c.st.toks[i].kind == tkSpace {
			continue
		}
		if k == 0 {
			return &c.st.toks[i]
		}
		k--
	}
	return nil
}

func (c *cursor) peek() *token { return c.peekN(0) }

// next consumes and returns the next significant token, nil at the end.
func (c *cursor) next() *token {
	for c.i < len(c.st.toks) {
		t := &c.st.toks[c.i]
		c.i++
		if t.kind != tkSpace {
			return t
		}
	}
	return nil
}

// isWord reports whether the next significant tokens are the words ws.
func (c *cursor) isWord(ws ...string) bool {
	for k, w := range ws {
		t := c.peekN(k)
		if t == nil || t.kind != tkWord || t.text != w {
			return false
		}
	}
	return true
}

// accept consumes the words ws if they come next.
func (c *cursor) accept(ws ...string) bool {
	if !c.isWord(ws...) {
		return false
	}
	for range ws {
		c.next()
	}
	return true
}

// expect consumes the words ws or fails at the first that is missing.
func (c *cursor) expect(ws ...string) error {
	for _, w := range ws {
		t := c.peek()
		if t == nil || t.kind != tkWord || t.text != w {
			return c.st.errAt(t)
		}
		c.next()
	}
	return nil
}

// end fails unless the statement ends here.
func (c *cursor) end() error {
	if t := c.peek(); t != nil {
		return c.st.errAt(t)
	}
	return nil
}

// errNext is a syntax error at the next token (or the end).
func (c *cursor) errNext() error { return c.st.errAt(c.peek()) }

// name consumes an identifier (word or "quoted") and returns it as
// PostgreSQL sees it: unquoted folded to lower case, quoted as written.
func (c *cursor) name() (string, error) {
	t := c.peek()
	switch {
	case t == nil:
		return "", c.st.endErr()
	case t.kind == tkWord:
		c.next()
		return t.text, nil
	case t.kind == tkQIdent:
		c.next()
		return t.val, nil
	}
	return "", c.st.errAt(t)
}

// rest returns the statement made of the tokens after the cursor.
func (c *cursor) rest() stmt {
	return stmt{src: c.st.src, toks: c.st.toks[c.i:], semi: c.st.semi}
}
