package planner

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestParseFrontStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want SluiceStmt
	}{
		// SET, which TiDB rejects in its PostgreSQL forms.
		{"SET TO, which the raw TiDB parser rejects", "SET x TO 1", &SetStmt{Name: "x", Value: "1"}},
		{"SET with =", "set application_name = 'psql'", &SetStmt{Name: "application_name", Value: "psql"}},
		{"SET SESSION", "SET SESSION DateStyle = ISO, MDY", &SetStmt{Name: "datestyle", Value: "iso, mdy"}},
		{"SET LOCAL", "SET LOCAL statement_timeout TO '5s'", &SetStmt{Name: "statement_timeout", Value: "5s", Local: true}},
		{"SET a dotted name", "SET my.Setting = on", &SetStmt{Name: "my.setting", Value: "on"}},
		{"SET a negative number", "SET extra_float_digits = -1.5", &SetStmt{Name: "extra_float_digits", Value: "-1.5"}},
		{"SET a quoted word keeps its case", `SET search_path TO "MySchema", public`, &SetStmt{Name: "search_path", Value: "MySchema, public"}},
		{"SET an escape string", `SET application_name = E'a\tb'`, &SetStmt{Name: "application_name", Value: "a\tb"}},
		{"SET TO DEFAULT", "SET x TO DEFAULT", &SetStmt{Name: "x", Default: true}},
		{"SET = DEFAULT", "SET x = default", &SetStmt{Name: "x", Default: true}},
		{"SET a quoted default is a value", "SET x = 'default'", &SetStmt{Name: "x", Value: "default"}},
		{"SET TIME ZONE", "SET TIME ZONE 'Europe/Paris'", &SetStmt{Name: "timezone", Value: "Europe/Paris"}},
		{"SET TIME ZONE a number", "SET TIME ZONE -8", &SetStmt{Name: "timezone", Value: "-8"}},
		{"SET TIME ZONE LOCAL", "SET TIME ZONE LOCAL", &SetStmt{Name: "timezone", Default: true}},
		{"SET NAMES", "SET NAMES 'utf8'", &SetStmt{Name: "client_encoding", Value: "utf8"}},
		{"SET a setting called names", "SET names = 'x'", &SetStmt{Name: "names", Value: "x"}},
		{"SET SCHEMA", "SET SCHEMA 'public'", &SetStmt{Name: "search_path", Value: "public"}},
		{"SET TRANSACTION ISOLATION LEVEL", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &SetStmt{Name: "transaction_isolation", Value: "repeatable read", Local: true}},
		{"SET TRANSACTION READ ONLY", "SET TRANSACTION READ ONLY", &SetStmt{Name: "transaction_read_only", Value: "on", Local: true}},
		{"SET SESSION CHARACTERISTICS", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
			&SetStmt{Name: "default_transaction_isolation", Value: "read committed"}},
		{"RESET", "RESET statement_timeout", &SetStmt{Name: "statement_timeout", Default: true}},
		{"RESET ALL", "RESET ALL", &SetStmt{Name: "all", Default: true}},
		{"RESET TIME ZONE", "RESET TIME ZONE", &SetStmt{Name: "timezone", Default: true}},

		// SHOW, which TiDB reads as MySQL's SHOW.
		{"SHOW a setting, which the raw TiDB parser rejects", "SHOW server_version", &ShowStmt{Name: "server_version"}},
		{"SHOW lowercases the name", `SHOW "TimeZone"`, &ShowStmt{Name: "timezone"}},
		{"SHOW ALL", "SHOW ALL", &ShowStmt{Name: "all"}},
		{"SHOW TIME ZONE", "SHOW TIME ZONE", &ShowStmt{Name: "timezone"}},
		{"SHOW TRANSACTION ISOLATION LEVEL", "show transaction isolation level", &ShowStmt{Name: "transaction_isolation"}},
		{"SHOW TABLES", "SHOW TABLES", &ShowTablesStmt{}},

		// DESCRIBE.
		{"DESCRIBE", "DESCRIBE Page_Rules", &DescribeStmt{Table: "page_rules"}},
		{"DESC with a quoted qualified name", `DESC public."Rules"`, &DescribeStmt{Table: "Rules", Schema: "public"}},

		// Transactions.
		{"BEGIN", "BEGIN", &TxnStmt{Kind: "begin"}},
		{"BEGIN WORK", "BEGIN WORK", &TxnStmt{Kind: "begin"}},
		{"BEGIN with modes", "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, NOT DEFERRABLE",
			&TxnStmt{Kind: "begin", Isolation: "serializable", ReadOnly: true}},
		{"START TRANSACTION", "START TRANSACTION READ WRITE", &TxnStmt{Kind: "begin"}},
		{"COMMIT", "COMMIT", &TxnStmt{Kind: "commit"}},
		{"COMMIT AND NO CHAIN", "COMMIT WORK AND NO CHAIN", &TxnStmt{Kind: "commit"}},
		{"END", "END TRANSACTION", &TxnStmt{Kind: "commit"}},
		{"ROLLBACK", "ROLLBACK", &TxnStmt{Kind: "rollback"}},
		{"ABORT", "ABORT", &TxnStmt{Kind: "rollback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewParser().Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.sql, err)
			}
			if len(ps) != 1 {
				t.Fatalf("Parse(%q) gave %d statements", tt.sql, len(ps))
			}
			if ps[0].AST != nil || !reflect.DeepEqual(ps[0].Stmt, tt.want) {
				t.Errorf("Parse(%q) = %#v (AST %T), want %#v", tt.sql, ps[0].Stmt, ps[0].AST, tt.want)
			}
			if ps[0].Text != tt.sql {
				t.Errorf("Text %q, want %q", ps[0].Text, tt.sql)
			}
		})
	}
}

func TestParseExplain(t *testing.T) {
	tests := []struct {
		name      string
		sql       string
		wantInner string // restored inner AST, or the inner statement's type
		wantOrder []int
	}{
		{"EXPLAIN parses its query with the front", "EXPLAIN SELECT a::int FROM t WHERE b = $2", `SELECT SLUICE_CAST("a", 'int') FROM "t" WHERE "b"=?`, []int{1}},
		{"EXPLAIN of a front statement", "EXPLAIN SHOW x", "*planner.ShowStmt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewParser().Parse(tt.sql + "; SELECT 1")
			if err != nil {
				t.Fatal(err)
			}
			ex, ok := ps[0].Stmt.(*ExplainStmt)
			if !ok {
				t.Fatalf("got %#v, want *ExplainStmt", ps[0].Stmt)
			}
			var got string
			if ex.Inner.AST != nil {
				got = restore(t, ex.Inner.AST)
			} else {
				got = reflect.TypeOf(ex.Inner.Stmt).String()
			}
			if got != tt.wantInner {
				t.Errorf("inner %s, want %s", got, tt.wantInner)
			}
			if !equalInts(ex.Inner.ParamOrder, tt.wantOrder) {
				t.Errorf("inner ParamOrder %v, want %v", ex.Inner.ParamOrder, tt.wantOrder)
			}
			if ps[0].NumParams != ex.Inner.NumParams {
				t.Errorf("NumParams %d, inner %d", ps[0].NumParams, ex.Inner.NumParams)
			}
			if ps[0].Text != tt.sql || ex.Inner.Text != tt.sql[len("EXPLAIN "):] {
				t.Errorf("Text %q, inner Text %q", ps[0].Text, ex.Inner.Text)
			}
		})
	}
}

func TestParseFrontStatementErrors(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		code string
		pos  int
		msg  string
	}{
		{"SET without a value", "SET x", sqlerr.SyntaxError, 6, "syntax error at end of input"},
		{"SET without a value before another statement", "SET x TO; SELECT 1", sqlerr.SyntaxError, 9, `syntax error at or near ";"`},
		{"SET an expression", "SET x = 1 + 1", sqlerr.SyntaxError, 11, `syntax error at or near "+"`},
		{"SET a parameter", "SET x = $1", sqlerr.SyntaxError, 9, `syntax error at or near "$1"`},
		{"SET GLOBAL in MySQL's form", "SET GLOBAL x = 1", sqlerr.SyntaxError, 12, `syntax error at or near "x"`},
		{"SET ROLE", "SET ROLE admin", sqlerr.FeatureNotSupported, 5, "SET ROLE and SET SESSION AUTHORIZATION are not supported"},
		{"SET SESSION AUTHORIZATION", "SET SESSION AUTHORIZATION admin", sqlerr.FeatureNotSupported, 5, "SET ROLE and SET SESSION AUTHORIZATION are not supported"},
		{"SET CHARACTERISTICS without SESSION", "SET CHARACTERISTICS AS TRANSACTION READ ONLY", sqlerr.SyntaxError, 21, `syntax error at or near "AS"`},
		{"SHOW with junk after the name", "SHOW COLUMNS FROM t", sqlerr.SyntaxError, 14, `syntax error at or near "FROM"`},
		{"SHOW nothing", "SHOW", sqlerr.SyntaxError, 5, "syntax error at end of input"},
		{"DESCRIBE two tables", "DESCRIBE a b", sqlerr.SyntaxError, 12, `syntax error at or near "b"`},
		{"BEGIN with a bad mode", "BEGIN READ SOMETIMES", sqlerr.SyntaxError, 12, `syntax error at or near "SOMETIMES"`},
		{"BEGIN with a bad isolation level", "BEGIN ISOLATION LEVEL READ SOMETIMES", sqlerr.SyntaxError, 28, `syntax error at or near "SOMETIMES"`},
		{"COMMIT AND CHAIN", "COMMIT AND CHAIN", sqlerr.FeatureNotSupported, 12, "AND CHAIN is not supported"},
		{"ROLLBACK TO a savepoint", "ROLLBACK TO SAVEPOINT s", sqlerr.FeatureNotSupported, 10, "savepoints are not supported"},
		{"SAVEPOINT", "SAVEPOINT s", sqlerr.FeatureNotSupported, 1, "savepoints are not supported"},
		{"EXPLAIN ANALYZE", "EXPLAIN ANALYZE SELECT 1", sqlerr.FeatureNotSupported, 9, "EXPLAIN options are not supported"},
		{"EXPLAIN nothing", "EXPLAIN", sqlerr.SyntaxError, 8, "syntax error at end of input"},
		{"EXPLAIN with an error in its query", "EXPLAIN SELECT 1 # 2", sqlerr.SyntaxError, 18, "operator # is not supported"},
		{"EXPLAIN with a syntax error in its query", "EXPLAIN SELECT 'é' FROM FROM", sqlerr.SyntaxError, 25, `syntax error at or near "FROM"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewParser().Parse(tt.sql)
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want a *sqlerr.Error", tt.sql, err)
			}
			if e.Code != tt.code || e.Position != tt.pos || e.Message != tt.msg {
				t.Errorf("Parse(%q) = %s at %d %q, want %s at %d %q", tt.sql, e.Code, e.Position, e.Message, tt.code, tt.pos, tt.msg)
			}
		})
	}
}
