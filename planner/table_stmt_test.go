package planner

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

const feedSQL = "CREATE TABLE rules (page VARCHAR(64) PRIMARY KEY, max_latency INT) " +
	"WITH (connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'rules', format = 'json')"

func TestCreateTableWithOptionsIsCutBeforeTiDB(t *testing.T) {
	s := parseFront(t, feedSQL)
	ct, ok := s.(*CreateTableWithStmt)
	if !ok {
		t.Fatalf("got %T, want *CreateTableWithStmt", s)
	}
	if _, ok := ct.Table.AST.(*ast.CreateTableStmt); !ok {
		t.Fatalf("the table part parsed as %T", ct.Table.AST)
	}
	want := []Option{
		{Key: "connector", Value: "kafka", Pos: strings.Index(feedSQL, "connector") + 1},
		{Key: "brokers", Value: "127.0.0.1:9092", Pos: strings.Index(feedSQL, "brokers") + 1},
		{Key: "topic", Value: "rules", Pos: strings.Index(feedSQL, "topic") + 1},
		{Key: "format", Value: "json", Pos: strings.Index(feedSQL, "format") + 1},
	}
	if len(ct.Options) != len(want) {
		t.Fatalf("got options %+v, want %+v", ct.Options, want)
	}
	for i := range want {
		if ct.Options[i] != want[i] {
			t.Errorf("option %d: got %+v, want %+v", i, ct.Options[i], want[i])
		}
	}
}

func TestCreateTableIfNotExistsWithOptions(t *testing.T) {
	b, err := bindOne(t, "CREATE TABLE IF NOT EXISTS r (k bigint, v text, PRIMARY KEY (k)) WITH (connector = 'KAFKA', topic = 't')")
	if err != nil {
		t.Fatal(err)
	}
	ct := b.Stmt.(*plan.CreateTable)
	if !ct.IfNotExists || ct.Def.Connector != "kafka" || ct.Def.Options["topic"] != "t" || len(ct.Def.PrimaryKey) != 1 {
		t.Fatalf("got %+v", ct)
	}
}

func TestCreateTableWithoutOptionsStaysTiDBs(t *testing.T) {
	for _, sql := range []string{
		"CREATE TABLE t (a int PRIMARY KEY)",
		"CREATE TABLE t (a varchar(3), b int, PRIMARY KEY (a))",
		"CREATE TABLE IF NOT EXISTS t (a int)",
	} {
		ps, err := NewParser().Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if _, ok := ps[0].AST.(*ast.CreateTableStmt); !ok {
			t.Errorf("%s: got %T / %T, want TiDB's CREATE TABLE", sql, ps[0].AST, ps[0].Stmt)
		}
	}
}

func TestCreateTableWithSyntaxErrorsKeepTheirPositions(t *testing.T) {
	tests := []struct {
		name, sql, near string
	}{
		{"an error in the column list is at its token", "CREATE TABLE t (a int PRIMARY KEY, b int int) WITH (connector = 'kafka')", "int)"},
		{"WITH without a list is at what follows", "CREATE TABLE t (a int PRIMARY KEY) WITH connector", "connector"},
		{"an option without a value is at what follows", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = )", ")"},
		{"text after the list is at its token", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka') extra", "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewParser().Parse(tc.sql)
			e, ok := err.(*sqlerr.Error)
			if !ok || e.Code != sqlerr.SyntaxError {
				t.Fatalf("got %v, want a syntax error", err)
			}
			want := strings.LastIndex(tc.sql, tc.near) + 1
			if e.Position != want {
				t.Errorf("got position %d (%v), want %d", e.Position, err, want)
			}
		})
	}
}

func TestBindCreateTableWithKeepsConnectorAndOptions(t *testing.T) {
	b, err := bindOne(t, feedSQL)
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := b.Stmt.(*plan.CreateTable)
	if !ok {
		t.Fatalf("got %T", b.Stmt)
	}
	d := ct.Def
	if d.Name != "rules" || d.Connector != "kafka" || len(d.PrimaryKey) != 1 || d.PrimaryKey[0] != 0 {
		t.Fatalf("got %+v", d)
	}
	if d.Columns[0].Type != sqltypes.Varchar(64) || d.Columns[1].Type != sqltypes.Int32 {
		t.Fatalf("got columns %+v", d.Columns)
	}
	want := map[string]string{"connector": "kafka", "brokers": "127.0.0.1:9092", "topic": "rules", "format": "json"}
	if !maps.Equal(d.Options, want) {
		t.Fatalf("got options %v, want %v", d.Options, want)
	}
}

func TestBindCreateTableWithRefusesWhatItCannotFeed(t *testing.T) {
	tests := []struct {
		name, sql, code, at string
	}{
		{"a table without a primary key", "CREATE TABLE t (a int, b int) WITH (connector = 'kafka', topic = 'x')",
			sqlerr.InvalidTableDefinition, "connector"},
		{"another connector", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'log')",
			sqlerr.InvalidParameterValue, "connector"},
		{"no connector", "CREATE TABLE t (a int PRIMARY KEY) WITH (topic = 'x')",
			sqlerr.InvalidParameterValue, "topic"},
		{"a bad start_offset", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka', start_offset = 'middle')",
			sqlerr.InvalidParameterValue, "start_offset"},
		{"a bad max_rows_per_batch", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka', max_rows_per_batch = 0)",
			sqlerr.InvalidParameterValue, "max_rows_per_batch"},
		{"a bad fail_on_data_loss", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka', fail_on_data_loss = 'maybe')",
			sqlerr.InvalidParameterValue, "fail_on_data_loss"},
		{"a source's option", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka', event_time = 'a')",
			sqlerr.SyntaxError, "event_time"},
		{"a repeated option", "CREATE TABLE t (a int PRIMARY KEY) WITH (connector = 'kafka', topic = 'a', topic = 'b')",
			sqlerr.DuplicateObject, "topic = 'b'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bindOne(t, tc.sql)
			e, ok := err.(*sqlerr.Error)
			if !ok || e.Code != tc.code {
				t.Fatalf("got %v, want SQLSTATE %s", err, tc.code)
			}
			if want := strings.Index(tc.sql, tc.at) + 1; e.Position != want {
				t.Errorf("got position %d (%v), want %d", e.Position, err, want)
			}
		})
	}
}

func TestStatementsThatChangeAFedTableAreRefused(t *testing.T) {
	cat := bindTestCatalog()
	cat["rules"] = catalog.TableDef{Name: "rules", Connector: "kafka",
		Options:    map[string]string{"connector": "kafka", "topic": "rules"},
		Columns:    []catalog.ColumnDef{{Name: "page", Type: sqltypes.Text}, {Name: "n", Type: sqltypes.Int32}},
		PrimaryKey: []int{0}}
	for _, sql := range []string{
		"INSERT INTO rules VALUES ('a', 1)",
		"UPDATE rules SET n = 2 WHERE page = 'a'",
		"DELETE FROM rules WHERE page = 'a'",
		"DELETE FROM rules",
		"TRUNCATE rules",
	} {
		ps, err := NewParser().Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		_, err = Bind(BindEnv{Catalog: cat, Now: time.Now()}, ps[0])
		if sqlerr.Code(err) != sqlerr.WrongObjectType || !strings.Contains(err.Error(), `topic "rules"`) {
			t.Errorf("%s: got %v, want 42809 naming the topic", sql, err)
		}
	}
	ps, _ := NewParser().Parse("SELECT page, n FROM rules")
	if _, err := Bind(BindEnv{Catalog: cat, Now: time.Now()}, ps[0]); err != nil {
		t.Errorf("reading a fed table: %v", err)
	}
}
