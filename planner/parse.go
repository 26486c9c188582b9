package planner

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// parseTiDB rewrites a statement for the TiDB parser and parses it.
func (p *Parser) parseTiDB(st stmt) (Parsed, error) {
	rw, err := rewrite(st)
	if err != nil {
		return Parsed{}, err
	}
	nodes, err := p.parseRewritten(rw.text)
	if err != nil {
		var se *sqlerr.Error
		if errors.As(err, &se) {
			return Parsed{}, err
		}
		return Parsed{}, tidbSyntaxError(st, rw, err)
	}
	if len(nodes) != 1 {
		e := sqlerr.New(sqlerr.InternalError, "the rewritten statement parsed as %d statements", len(nodes))
		e.Detail = rw.text
		return Parsed{}, e
	}
	if n := numberParams(nodes[0]); n != len(rw.paramOrder) {
		e := sqlerr.New(sqlerr.InternalError, "the rewritten statement has %d parameter markers, want %d", n, len(rw.paramOrder))
		e.Detail = rw.text
		return Parsed{}, e
	}
	return Parsed{
		Text:       st.text(),
		AST:        nodes[0],
		ParamOrder: rw.paramOrder,
		NumParams:  rw.numParams,
	}, nil
}

// parseRewritten runs the TiDB parser. A panic in it (its test driver
// panics on some literals) becomes an internal error, and the parser,
// whose state it may have left half-way, is replaced.
func (p *Parser) parseRewritten(text string) (nodes []ast.StmtNode, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.tidb = NewParser().tidb
			e := sqlerr.New(sqlerr.InternalError, "the SQL parser failed: %v", v)
			e.Detail = text
			nodes, err = nil, e
		}
	}()
	nodes, _, err = p.tidb.ParseSQL(text)
	return nodes, err
}

// tidbSyntaxError turns a TiDB parse error into PostgreSQL's syntax
// error at the original position. TiDB's message says
// `line L column C near "<rest of the text from the failing token>"`.
func tidbSyntaxError(st stmt, rw *rewritten, err error) error {
	off, ok := nearOffset(err.Error(), rw.text)
	if !ok {
		e := sqlerr.New(sqlerr.SyntaxError, "syntax error: %w", err)
		e.Position = runePos(st.src, rw.origOffset(0))
		return e
	}
	if off >= len(strings.TrimRight(rw.text, " \t\r\n\f\v")) {
		return st.endErr()
	}
	orig := rw.origOffset(off)
	for i := range st.toks {
		if t := &st.toks[i]; t.kind != tkSpace && t.end > orig {
			return st.errAt(t)
		}
	}
	return st.endErr()
}

// nearOffset finds the byte offset in text where TiDB's error message
// says the error is.
func nearOffset(msg, text string) (int, bool) {
	const near = `near "`
	i := strings.Index(msg, near)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(near):]
	for off := 0; off <= len(text); off++ {
		s := text[off:]
		if len(rest) > len(s) && rest[len(s)] == '"' && strings.HasPrefix(rest, s) {
			return off, true
		}
	}
	// A long rest is cut at 2048 bytes and followed by its length.
	const total = "(total length "
	if j := strings.LastIndex(rest, total); j >= 0 {
		num, _, _ := strings.Cut(rest[j+len(total):], ")")
		if n, err := strconv.Atoi(num); err == nil && n <= len(text) {
			return len(text) - n, true
		}
	}
	return 0, false
}

// numberParams sets the Order of the statement's parameter markers to
// their rank in text order (the TiDB parser leaves it 0) and returns how
// many there are.
func numberParams(n ast.Node) int {
	v := &paramVisitor{}
	n.Accept(v)
	slices.SortFunc(v.marks, func(a, b *test_driver.ParamMarkerExpr) int { return a.Offset - b.Offset })
	for k, m := range v.marks {
		m.SetOrder(k)
	}
	return len(v.marks)
}

// paramVisitor collects parameter markers.
type paramVisitor struct {
	marks []*test_driver.ParamMarkerExpr
}

var _ ast.Visitor = (*paramVisitor)(nil)

// Enter implements ast.Visitor.
func (v *paramVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.marks = append(v.marks, m)
	}
	return n, false
}

// Leave implements ast.Visitor.
func (v *paramVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }
