package planner

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// This file holds the front's streaming statements: CREATE SOURCE,
// CREATE STREAM, ALTER/PAUSE/RESUME/DROP STREAM, DROP SOURCE, SHOW
// STREAMS/SOURCES and SUBSCRIBE. The front only reads their shape; what
// an option means, and whether a name exists, is the binder's business.
// The query of CREATE STREAM is parsed by TiDB through the same rewrite
// as any SELECT.

// Option is one key = value of a WITH (...) or SET (...) option list.
type Option struct {
	// Key is the option's name: words lowercased and "quoted" parts as
	// written, joined by dots (fields.user_id.kind); a key written as a
	// 'string' is its value.
	Key string
	// Value is the value as text: a string literal's value (any form:
	// '..', E'..', $$..$$), a number as written (with its sign), or a
	// word lowercased (so TRUE, FALSE and NULL are "true", "false" and
	// "null", the same as a bare identifier).
	Value string
	// Pos is the 1-based character position of the key in the original
	// SQL text, for the errors of the option's validation.
	Pos int
}

// ColumnSpec is one column of CREATE SOURCE.
type ColumnSpec struct {
	// Name is the column name, lowercased unless quoted.
	Name string
	// Type is the column's type, read with sqltypes.ParseName from its
	// PostgreSQL spelling (int, bigint, double precision, varchar(64),
	// timestamp without time zone, ...).
	Type sqltypes.Type
	// NotNull is set by NOT NULL.
	NotNull bool
}

// CreateSourceStmt is
//
//	CREATE SOURCE name (col type [NOT NULL | NULL], ...) [WITH (key = value, ...)]
type CreateSourceStmt struct {
	Name    string
	Columns []ColumnSpec
	// Options are the WITH options in the order written; nil without
	// WITH. Keys are unique.
	Options []Option
}

// CreateStreamStmt is
//
//	CREATE [OR REPLACE] STREAM name [WITH (key = value, ...)] AS query
type CreateStreamStmt struct {
	Name      string
	OrReplace bool
	// Options are the WITH options in the order written; nil without
	// WITH. Keys are unique.
	Options []Option
	// Query is the stream's query, parsed by the front and TiDB as a
	// statement of its own (Query.Text is its text; $n, casts and
	// intervals are rewritten as for any SELECT). Query.AST is an
	// *ast.SelectStmt or an *ast.SetOprStmt.
	Query Parsed
}

// AlterStreamStmt is ALTER STREAM name SET (key = value, ...).
type AlterStreamStmt struct {
	Name string
	// Options are the options to change, in the order written; at least
	// one, keys unique.
	Options []Option
}

// StreamControlStmt is PAUSE STREAM name or RESUME STREAM name.
type StreamControlStmt struct {
	Name string
	// Action is "pause" or "resume".
	Action string
}

// DropStreamStmt is DROP STREAM [IF EXISTS] name [, ...].
type DropStreamStmt struct {
	Names    []string
	IfExists bool
}

// DropSourceStmt is DROP SOURCE [IF EXISTS] name [, ...].
type DropSourceStmt struct {
	Names    []string
	IfExists bool
}

// ShowStreamsStmt is SHOW STREAMS.
type ShowStreamsStmt struct{}

// ShowSourcesStmt is SHOW SOURCES.
type ShowSourcesStmt struct{}

// SubscribeStmt is SUBSCRIBE [TO] name, also written
// COPY (SUBSCRIBE [TO] name) TO STDOUT.
type SubscribeStmt struct {
	Name string
}

func (*CreateSourceStmt) sluiceStmt()  {}
func (*CreateStreamStmt) sluiceStmt()  {}
func (*AlterStreamStmt) sluiceStmt()   {}
func (*StreamControlStmt) sluiceStmt() {}
func (*DropStreamStmt) sluiceStmt()    {}
func (*DropSourceStmt) sluiceStmt()    {}
func (*ShowStreamsStmt) sluiceStmt()   {}
func (*ShowSourcesStmt) sluiceStmt()   {}
func (*SubscribeStmt) sluiceStmt()     {}

var (
	_ SluiceStmt = (*CreateSourceStmt)(nil)
	_ SluiceStmt = (*CreateStreamStmt)(nil)
	_ SluiceStmt = (*AlterStreamStmt)(nil)
	_ SluiceStmt = (*StreamControlStmt)(nil)
	_ SluiceStmt = (*DropStreamStmt)(nil)
	_ SluiceStmt = (*DropSourceStmt)(nil)
	_ SluiceStmt = (*ShowStreamsStmt)(nil)
	_ SluiceStmt = (*ShowSourcesStmt)(nil)
	_ SluiceStmt = (*SubscribeStmt)(nil)
)

// parseCreate parses CREATE SOURCE, CREATE [OR REPLACE] STREAM and
// CREATE TABLE ... WITH (...) (table_stmt.go); any other CREATE is
// TiDB's.
func parseCreate(p *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // CREATE
	switch {
	case c.accept("source"):
		return parseCreateSource(c)
	case c.accept("stream"):
		return parseCreateStream(p, c, false)
	case c.accept("or", "replace", "stream"):
		return parseCreateStream(p, c, true)
	}
	return parseCreateTableWith(p, c)
}

// parseCreateSource parses the rest of CREATE SOURCE after SOURCE.
func parseCreateSource(c *cursor) (SluiceStmt, error) {
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	s := &CreateSourceStmt{Name: name}
	if err := c.punct("("); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		at := c.peek()
		col, err := columnSpec(c)
		if err != nil {
			return nil, err
		}
		if seen[col.Name] {
			e := sqlerr.New(sqlerr.DuplicateColumn, "column %q specified more than once", col.Name)
			e.Position = runePos(c.st.src, at.pos)
			return nil, e
		}
		seen[col.Name] = true
		s.Columns = append(s.Columns, col)
		if c.acceptPunct(",") {
			continue
		}
		if err := c.punct(")"); err != nil {
			return nil, err
		}
		break
	}
	if c.accept("with") {
		if s.Options, err = optionList(c); err != nil {
			return nil, err
		}
	}
	return s, c.end()
}

// columnSpec parses one column of CREATE SOURCE: name type [NOT NULL |
// NULL].
func columnSpec(c *cursor) (ColumnSpec, error) {
	name, err := c.name()
	if err != nil {
		return ColumnSpec{}, err
	}
	typ, err := columnType(c)
	if err != nil {
		return ColumnSpec{}, err
	}
	col := ColumnSpec{Name: name, Type: typ}
	switch {
	case c.accept("not", "null"):
		col.NotNull = true
	case c.accept("null"):
	}
	return col, nil
}

// maxVarcharWidth is PostgreSQL's largest varchar(n).
const maxVarcharWidth = 10485760

// columnType parses a column type as PostgreSQL spells it: one word or
// "quoted" name, the multi-word names (double precision, character
// varying, timestamp without time zone), and a width for the varchar
// family. An unknown name is 42704 at the type.
func columnType(c *cursor) (sqltypes.Type, error) {
	at := c.peek()
	name, err := c.name()
	if err != nil {
		return sqltypes.Unknown, err
	}
	if at.kind == tkWord {
		switch {
		case name == "double" && c.accept("precision"):
			name = "double precision"
		case (name == "character" || name == "char") && c.accept("varying"):
			name += " varying"
		case name == "timestamp" && c.accept("without", "time", "zone"):
			name = "timestamp without time zone"
		case name == "timestamp" && c.accept("with", "time", "zone"):
			name = "timestamp with time zone"
		}
	}
	typ, ok := sqltypes.ParseName(name)
	if !ok || strings.ContainsAny(name, "()") {
		e := sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", name)
		e.Position = runePos(c.st.src, at.pos)
		return sqltypes.Unknown, e
	}
	t := c.peek()
	if t == nil || !t.is("(") {
		return typ, nil
	}
	switch name {
	case "varchar", "character varying", "char varying":
	default:
		return sqltypes.Unknown, c.st.errAt(t)
	}
	c.next() // (
	n := c.peek()
	if n == nil || n.kind != tkNumber {
		return sqltypes.Unknown, c.st.errAt(n)
	}
	width, err := strconv.Atoi(n.text)
	var e *sqlerr.Error
	switch {
	case err != nil || width > maxVarcharWidth:
		e = sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar cannot exceed %d", maxVarcharWidth)
	case width < 1:
		e = sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar must be at least 1")
	}
	if e != nil {
		e.Position = runePos(c.st.src, n.pos)
		return sqltypes.Unknown, e
	}
	c.next()
	if err := c.punct(")"); err != nil {
		return sqltypes.Unknown, err
	}
	return sqltypes.Varchar(width), nil
}

// parseCreateStream parses the rest of CREATE [OR REPLACE] STREAM after
// STREAM. The query after AS is parsed as a statement of its own and
// must be a query.
func parseCreateStream(p *Parser, c *cursor, orReplace bool) (SluiceStmt, error) {
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	s := &CreateStreamStmt{Name: name, OrReplace: orReplace}
	if c.accept("with") {
		if s.Options, err = optionList(c); err != nil {
			return nil, err
		}
	}
	if err := c.expect("as"); err != nil {
		return nil, err
	}
	at := c.peek()
	if at == nil {
		return nil, c.st.endErr()
	}
	q, err := p.parseStmt(c.rest())
	if err != nil {
		return nil, err
	}
	switch q.AST.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		return nil, c.st.errAt(at)
	}
	s.Query = q
	return s, nil
}

// parseAlter parses ALTER STREAM name SET (options); any other ALTER is
// TiDB's.
func parseAlter(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // ALTER
	if !c.accept("stream") {
		return nil, nil
	}
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	if err := c.expect("set"); err != nil {
		return nil, err
	}
	opts, err := optionList(c)
	if err != nil {
		return nil, err
	}
	return &AlterStreamStmt{Name: name, Options: opts}, c.end()
}

// parseStreamControl parses PAUSE STREAM name and RESUME STREAM name.
func parseStreamControl(_ *Parser, c *cursor) (SluiceStmt, error) {
	action := c.next().text // PAUSE or RESUME
	if err := c.expect("stream"); err != nil {
		return nil, err
	}
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	return &StreamControlStmt{Name: name, Action: action}, c.end()
}

// parseDrop parses DROP STREAM and DROP SOURCE; any other DROP is
// TiDB's.
func parseDrop(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // DROP
	var stream bool
	switch {
	case c.accept("stream"):
		stream = true
	case c.accept("source"):
	default:
		return nil, nil
	}
	ifExists := c.accept("if", "exists")
	var names []string
	for {
		n, err := c.name()
		if err != nil {
			return nil, err
		}
		names = append(names, n)
		if !c.acceptPunct(",") {
			break
		}
	}
	if err := c.end(); err != nil {
		return nil, err
	}
	if stream {
		return &DropStreamStmt{Names: names, IfExists: ifExists}, nil
	}
	return &DropSourceStmt{Names: names, IfExists: ifExists}, nil
}

// parseSubscribe parses SUBSCRIBE [TO] name.
func parseSubscribe(_ *Parser, c *cursor) (SluiceStmt, error) {
	s, err := subscribeBody(c)
	if err != nil {
		return nil, err
	}
	return s, c.end()
}

// subscribeBody parses SUBSCRIBE [TO] name, leaving the cursor after
// the name.
func subscribeBody(c *cursor) (*SubscribeStmt, error) {
	c.next() // SUBSCRIBE
	c.accept("to")
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	return &SubscribeStmt{Name: name}, nil
}

// parseCopy parses COPY (SUBSCRIBE [TO] name) TO STDOUT; any other COPY
// is TiDB's (which rejects it).
func parseCopy(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // COPY
	if t := c.peek(); t == nil || !t.is("(") || !isWordTok(c.peekN(1), "subscribe") {
		return nil, nil
	}
	c.next() // (
	s, err := subscribeBody(c)
	if err != nil {
		return nil, err
	}
	if err := c.punct(")"); err != nil {
		return nil, err
	}
	if err := c.expect("to", "stdout"); err != nil {
		return nil, err
	}
	return s, c.end()
}

// optionList parses ( key = value, ... ) with at least one option and
// unique keys.
func optionList(c *cursor) ([]Option, error) {
	if err := c.punct("("); err != nil {
		return nil, err
	}
	var opts []Option
	seen := map[string]bool{}
	for {
		o, err := option(c)
		if err != nil {
			return nil, err
		}
		if seen[o.Key] {
			e := sqlerr.New(sqlerr.DuplicateObject, "option %q specified more than once", o.Key)
			e.Position = o.Pos
			return nil, e
		}
		seen[o.Key] = true
		opts = append(opts, o)
		if c.acceptPunct(",") {
			continue
		}
		return opts, c.punct(")")
	}
}

// option parses one key = value.
func option(c *cursor) (Option, error) {
	t := c.peek()
	if t == nil {
		return Option{}, c.st.endErr()
	}
	o := Option{Pos: runePos(c.st.src, t.pos)}
	if t.kind == tkString {
		c.next()
		o.Key = t.val
	} else {
		key, err := optionKey(c)
		if err != nil {
			return Option{}, err
		}
		o.Key = key
	}
	if err := c.punct("="); err != nil {
		return Option{}, err
	}
	v, err := optionValue(c)
	if err != nil {
		return Option{}, err
	}
	o.Value = v
	return o, nil
}

// optionKey parses a word or "quoted" name, possibly dotted; words are
// lowercased, quoted parts kept as written.
func optionKey(c *cursor) (string, error) {
	var parts []string
	for {
		n, err := c.name()
		if err != nil {
			return "", err
		}
		parts = append(parts, n)
		if !c.acceptPunct(".") {
			return strings.Join(parts, "."), nil
		}
	}
}

// optionValue parses an option's value: a string, a signed number, a
// word or a "quoted" word.
func optionValue(c *cursor) (string, error) {
	t := c.peek()
	if t == nil {
		return "", c.st.endErr()
	}
	switch t.kind {
	case tkString, tkQIdent:
		c.next()
		return t.val, nil
	case tkWord, tkNumber:
		c.next()
		return t.text, nil
	}
	if t.is("-") || t.is("+") {
		n := c.peekN(1)
		if n == nil || n.kind != tkNumber {
			return "", c.st.errAt(n)
		}
		c.next()
		c.next()
		if t.text == "-" {
			return "-" + n.text, nil
		}
		return n.text, nil
	}
	return "", c.st.errAt(t)
}

// punct consumes the punctuation or operator s or fails at the next
// token.
func (c *cursor) punct(s string) error {
	if !c.acceptPunct(s) {
		return c.errNext()
	}
	return nil
}

// acceptPunct consumes the punctuation or operator s if it comes next.
func (c *cursor) acceptPunct(s string) bool {
	t := c.peek()
	if t == nil || t.kind == tkWord || !t.is(s) {
		return false
	}
	c.next()
	return true
}

// isWordTok reports whether t is the word w.
func isWordTok(t *token, w string) bool {
	return t != nil && t.kind == tkWord && t.text == w
}
