package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// This file holds CREATE TABLE ... WITH (options): a table fed from
// outside, a changelog-fed config table. The MySQL grammar has no WITH
// after a column list, so the front cuts the option list off and hands
// the rest, an ordinary CREATE TABLE, to TiDB; positions stay those of
// the original text.

// CreateTableWithStmt is
//
//	CREATE TABLE [IF NOT EXISTS] name (columns, constraints) WITH (key = value, ...)
type CreateTableWithStmt struct {
	// Table is the statement up to the column list's closing parenthesis,
	// parsed by TiDB: Table.AST is an *ast.CreateTableStmt.
	Table Parsed
	// Options are the WITH options in the order written; keys are unique.
	Options []Option
}

func (*CreateTableWithStmt) sluiceStmt() {}

var _ SluiceStmt = (*CreateTableWithStmt)(nil)

// parseCreateTableWith parses CREATE TABLE ... (...) WITH (...), the
// cursor being after CREATE. It returns nil, nil for a CREATE TABLE
// without an option list after its column list, which TiDB parses as a
// whole.
func parseCreateTableWith(p *Parser, c *cursor) (SluiceStmt, error) {
	look := *c
	look.accept("temp")
	look.accept("temporary")
	look.accept("unlogged")
	if !look.isWord("table") {
		return nil, nil
	}
	toks := c.st.toks
	open := -1
	for i := look.i; i < len(toks); i++ {
		if toks[i].kind != tkSpace && toks[i].is("(") {
			open = i
			break
		}
	}
	if open < 0 {
		return nil, nil
	}
	depth, closing := 0, -1
	for i := open; i < len(toks) && closing < 0; i++ {
		switch t := &toks[i]; {
		case t.kind == tkSpace:
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
			if depth == 0 {
				closing = i
			}
		}
	}
	if closing < 0 {
		return nil, nil
	}
	after := &cursor{st: c.st, i: closing + 1}
	if !after.isWord("with") {
		return nil, nil
	}
	with := after.next()
	if t := after.peek(); t == nil || !t.is("(") {
		return nil, c.st.errAt(after.peek())
	}
	opts, err := optionList(after)
	if err != nil {
		return nil, err
	}
	if err := after.end(); err != nil {
		return nil, err
	}
	head, err := p.parseTiDB(stmt{src: c.st.src, toks: toks[:closing+1], semi: c.st.semi})
	if err != nil {
		return nil, err
	}
	if _, ok := head.AST.(*ast.CreateTableStmt); !ok {
		return nil, c.st.errAt(with)
	}
	return &CreateTableWithStmt{Table: head, Options: opts}, nil
}

// bindCreateTableWith binds CREATE TABLE ... WITH (connector = 'kafka',
// ...): the table as any CREATE TABLE, plus its connector and options,
// kept in the table's definition. Such a table needs a primary key (each
// record upserts by it); only its feed writes it. The options every fed
// table has are checked here, with their positions; the connector's own
// (brokers, topic, format, ...) are checked by the connector when the
// table is created, still inside CREATE TABLE (an unknown one is 42601).
func (b *binder) bindCreateTableWith(s *CreateTableWithStmt) (plan.Statement, error) {
	ct := s.Table.AST.(*ast.CreateTableStmt)
	st, err := b.bindCreateTable(ct)
	if err != nil {
		return nil, err
	}
	create := st.(*plan.CreateTable)
	def := &create.Def
	def.Options = map[string]string{}
	var connector *Option
	for i, o := range s.Options {
		def.Options[o.Key] = o.Value
		switch o.Key {
		case "connector":
			connector = &s.Options[i]
			if v := strings.ToLower(o.Value); v != "kafka" {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"connector\" of a table: %q (a table can be fed only by connector 'kafka', from a changelog topic)", o.Value)
			}
			def.Connector = "kafka"
		case "start_offset":
			if v := strings.ToLower(o.Value); v != "earliest" && v != "latest" {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"start_offset\": %q (want 'earliest' or 'latest')", o.Value)
			}
		case "max_rows_per_batch":
			if _, err := maxRowsOption(o); err != nil {
				return nil, err
			}
		case "fail_on_data_loss":
			if _, ok := parseBool(o.Value); !ok {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"fail_on_data_loss\": %q (want true or false)", o.Value)
			}
		case "event_time", "watermark_delay", "trigger", "sink", "output_mode":
			return nil, optErr(sqlerr.SyntaxError, o, "unrecognized table option %q: a table has no event time, trigger or sink (those are options of CREATE SOURCE and CREATE STREAM)", o.Key)
		}
	}
	if connector == nil {
		e := sqlerr.New(sqlerr.InvalidParameterValue, "CREATE TABLE ... WITH (...) needs connector = 'kafka': a table is fed only from a changelog topic")
		if len(s.Options) > 0 {
			e.Position = s.Options[0].Pos
		}
		return nil, e
	}
	if len(def.PrimaryKey) == 0 {
		e := sqlerr.New(sqlerr.InvalidTableDefinition, "table %q fed by connector 'kafka' needs a PRIMARY KEY: each record upserts the row of its key, and a record with a null value deletes it", def.Name)
		e.Position = connector.Pos
		return nil, e
	}
	return create, nil
}

// parseBool reads a boolean option: true, on, yes, 1 or false, off, no,
// 0, in any case.
func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "1":
		return true, true
	case "false", "off", "no", "0":
		return false, true
	}
	return false, false
}

// errFedTable refuses INSERT, UPDATE, DELETE and TRUNCATE on a table fed
// by a connector (42809, wrong_object_type, as for INSERT into a source
// that generates its rows): its topic owns its rows, and a statement's
// change would be silently overwritten by the next record of the key.
func errFedTable(def catalog.TableDef) error {
	if def.Connector == "" {
		return nil
	}
	e := sqlerr.New(sqlerr.WrongObjectType, "cannot change table %q: it is fed by connector '%s' from topic %q, which owns its rows", def.Name, def.Connector, def.Options["topic"])
	e.Hint = "produce the change to the topic (a record with a null value deletes its key), or drop the table"
	return e
}
