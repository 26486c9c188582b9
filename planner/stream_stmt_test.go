package planner

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// parseFront parses sql, which must be one statement the front handles,
// and returns it.
func parseFront(t *testing.T, sql string) SluiceStmt {
	t.Helper()
	ps, err := NewParser().Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	if len(ps) != 1 {
		t.Fatalf("Parse(%q) gave %d statements, want 1", sql, len(ps))
	}
	if ps[0].Stmt == nil {
		t.Fatalf("Parse(%q) gave TiDB's %T, want a front statement", sql, ps[0].AST)
	}
	if ps[0].Text != sql {
		t.Errorf("Text %q, want %q", ps[0].Text, sql)
	}
	return ps[0].Stmt
}

func TestParseStreamStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want SluiceStmt
	}{
		{"CREATE SOURCE reads columns and options",
			"CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT NOT NULL) WITH (connector = 'log')",
			&CreateSourceStmt{Name: "clicks", Columns: []ColumnSpec{
				{Name: "ts", Type: sqltypes.Timestamp},
				{Name: "user_id", Type: sqltypes.Int64, NotNull: true},
			}, Options: []Option{{Key: "connector", Value: "log", Pos: 68}}}},
		{"CREATE SOURCE reads every PostgreSQL spelling of the supported types",
			"CREATE SOURCE s (a int, b integer, c int4, d bigint, e int8, f smallint, g real, h float4, " +
				"i double precision, j float8, k text, l varchar(10), m varchar, n timestamp, " +
				"o timestamp without time zone, p date, q boolean, r bool, s character varying(3))",
			&CreateSourceStmt{Name: "s", Columns: []ColumnSpec{
				{Name: "a", Type: sqltypes.Int32}, {Name: "b", Type: sqltypes.Int32}, {Name: "c", Type: sqltypes.Int32},
				{Name: "d", Type: sqltypes.Int64}, {Name: "e", Type: sqltypes.Int64}, {Name: "f", Type: sqltypes.Int16},
				{Name: "g", Type: sqltypes.Float32}, {Name: "h", Type: sqltypes.Float32},
				{Name: "i", Type: sqltypes.Float64}, {Name: "j", Type: sqltypes.Float64},
				{Name: "k", Type: sqltypes.Text}, {Name: "l", Type: sqltypes.Varchar(10)}, {Name: "m", Type: sqltypes.Varchar(0)},
				{Name: "n", Type: sqltypes.Timestamp}, {Name: "o", Type: sqltypes.Timestamp},
				{Name: "p", Type: sqltypes.Date}, {Name: "q", Type: sqltypes.Bool}, {Name: "r", Type: sqltypes.Bool},
				{Name: "s", Type: sqltypes.Varchar(3)},
			}}},
		{"CREATE SOURCE folds unquoted names and keeps quoted ones",
			`create source "Clicks" (Ts timestamp NULL, "UserId" "int8" not null)`,
			&CreateSourceStmt{Name: "Clicks", Columns: []ColumnSpec{
				{Name: "ts", Type: sqltypes.Timestamp},
				{Name: "UserId", Type: sqltypes.Int64, NotNull: true},
			}}},
		{"option values in every form",
			"CREATE SOURCE s (a int) WITH (s = 'x''y', e = E'a\\tb', d = $$it's$$, n = 100, f = 1.5e3, neg = -5, " +
				"pos = +2, t = TRUE, no = false, z = NULL, w = Earliest, q = \"Quoted\")",
			&CreateSourceStmt{Name: "s", Columns: []ColumnSpec{{Name: "a", Type: sqltypes.Int32}}, Options: []Option{
				{Key: "s", Value: "x'y", Pos: 31}, {Key: "e", Value: "a\tb", Pos: 43},
				{Key: "d", Value: "it's", Pos: 56}, {Key: "n", Value: "100", Pos: 70},
				{Key: "f", Value: "1.5e3", Pos: 79}, {Key: "neg", Value: "-5", Pos: 90},
				{Key: "pos", Value: "2", Pos: 100}, {Key: "t", Value: "true", Pos: 110},
				{Key: "no", Value: "false", Pos: 120}, {Key: "z", Value: "null", Pos: 132},
				{Key: "w", Value: "earliest", Pos: 142}, {Key: "q", Value: "Quoted", Pos: 156},
			}}},
		{"option keys may be dotted, quoted or strings",
			`CREATE SOURCE s (a int) WITH (Fields.User_Id.Kind = 'sequence', "Mixed".x = 1, 'fields.a.min' = 0)`,
			&CreateSourceStmt{Name: "s", Columns: []ColumnSpec{{Name: "a", Type: sqltypes.Int32}}, Options: []Option{
				{Key: "fields.user_id.kind", Value: "sequence", Pos: 31},
				{Key: "Mixed.x", Value: "1", Pos: 65},
				{Key: "fields.a.min", Value: "0", Pos: 80},
			}}},
		{"an option position counts characters, not bytes",
			`CREATE SOURCE "ü" (a int) WITH (k = 'é', j = 1)`,
			&CreateSourceStmt{Name: "ü", Columns: []ColumnSpec{{Name: "a", Type: sqltypes.Int32}}, Options: []Option{
				{Key: "k", Value: "é", Pos: 33}, {Key: "j", Value: "1", Pos: 42},
			}}},
		{"ALTER STREAM SET", "ALTER STREAM Slow_Clicks SET (trigger = '200ms', max_rows_per_batch = 1000)",
			&AlterStreamStmt{Name: "slow_clicks", Options: []Option{
				{Key: "trigger", Value: "200ms", Pos: 31}, {Key: "max_rows_per_batch", Value: "1000", Pos: 50},
			}}},
		{"PAUSE STREAM", "PAUSE STREAM s", &StreamControlStmt{Name: "s", Action: "pause"}},
		{"RESUME STREAM with a quoted name", `resume stream "S"`, &StreamControlStmt{Name: "S", Action: "resume"}},
		{"DROP STREAM", "DROP STREAM s", &DropStreamStmt{Names: []string{"s"}}},
		{"DROP STREAM IF EXISTS several", "DROP STREAM IF EXISTS a, B", &DropStreamStmt{Names: []string{"a", "b"}, IfExists: true}},
		{"DROP SOURCE", "DROP SOURCE clicks", &DropSourceStmt{Names: []string{"clicks"}}},
		{"DROP SOURCE IF EXISTS", "DROP SOURCE IF EXISTS clicks", &DropSourceStmt{Names: []string{"clicks"}, IfExists: true}},
		{"SHOW STREAMS", "SHOW STREAMS", &ShowStreamsStmt{}},
		{"SHOW SOURCES", "show sources", &ShowSourcesStmt{}},
		{"SUBSCRIBE", "SUBSCRIBE slow_clicks", &SubscribeStmt{Name: "slow_clicks"}},
		{"SUBSCRIBE TO", `SUBSCRIBE TO "Slow"`, &SubscribeStmt{Name: "Slow"}},
		{"SUBSCRIBE inside COPY", "COPY (SUBSCRIBE slow_clicks) TO STDOUT", &SubscribeStmt{Name: "slow_clicks"}},
		{"SUBSCRIBE TO inside COPY", "copy ( subscribe to S ) to stdout", &SubscribeStmt{Name: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseFront(t, tt.sql)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.sql, got, tt.want)
			}
		})
	}
}

func TestParseCreateStream(t *testing.T) {
	tests := []struct {
		name      string
		sql       string
		want      CreateStreamStmt // without Query
		wantQuery string           // the query's AST restored
		wantText  string           // the query's Text
		wantOrder []int
	}{
		{"a stream with options and a filter",
			"CREATE STREAM s WITH (trigger = '1s', sink = 'table') AS SELECT a FROM t WHERE b > 1",
			CreateStreamStmt{Name: "s", Options: []Option{{Key: "trigger", Value: "1s", Pos: 23}, {Key: "sink", Value: "table", Pos: 39}}},
			`SELECT "a" FROM "t" WHERE "b">1`, "SELECT a FROM t WHERE b > 1", nil},
		{"OR REPLACE and no options",
			`CREATE OR REPLACE STREAM "S" AS SELECT 1`,
			CreateStreamStmt{Name: "S", OrReplace: true}, "SELECT 1", "SELECT 1", nil},
		{"TUMBLE with INTERVAL n UNIT reaches TiDB as sluice_interval",
			"CREATE STREAM w AS SELECT TUMBLE_START(ts, INTERVAL 1 MINUTE) AS m, count(*) FROM c GROUP BY TUMBLE(ts, INTERVAL 1 MINUTE)",
			CreateStreamStmt{Name: "w"},
			`SELECT TUMBLE_START("ts", SLUICE_INTERVAL('1 minute')) AS "m",COUNT(1) FROM "c" GROUP BY TUMBLE("ts", SLUICE_INTERVAL('1 minute'))`,
			"SELECT TUMBLE_START(ts, INTERVAL 1 MINUTE) AS m, count(*) FROM c GROUP BY TUMBLE(ts, INTERVAL 1 MINUTE)", nil},
		{"HOP with PostgreSQL intervals, casts and parameters",
			"CREATE STREAM h AS SELECT a::int8 FROM c WHERE b = $2 GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '1 minute')",
			CreateStreamStmt{Name: "h"},
			`SELECT SLUICE_CAST("a", 'int8') FROM "c" WHERE "b"=? GROUP BY HOP("ts", SLUICE_INTERVAL('5 second'), SLUICE_INTERVAL('1 minute'))`,
			"SELECT a::int8 FROM c WHERE b = $2 GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '1 minute')", []int{1}},
		{"a set operation is a query",
			"CREATE STREAM u AS SELECT a FROM x UNION ALL SELECT a FROM y",
			CreateStreamStmt{Name: "u"},
			`SELECT "a" FROM "x" UNION ALL SELECT "a" FROM "y"`, "SELECT a FROM x UNION ALL SELECT a FROM y", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ok := parseFront(t, tt.sql).(*CreateStreamStmt)
			if !ok {
				t.Fatalf("Parse(%q) is not a *CreateStreamStmt", tt.sql)
			}
			got := *cs
			got.Query = Parsed{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if cs.Query.AST == nil {
				t.Fatalf("query has no TiDB AST: %#v", cs.Query)
			}
			if q := restore(t, cs.Query.AST); q != tt.wantQuery {
				t.Errorf("query %s\n want %s", q, tt.wantQuery)
			}
			if cs.Query.Text != tt.wantText {
				t.Errorf("query Text %q, want %q", cs.Query.Text, tt.wantText)
			}
			if !equalInts(cs.Query.ParamOrder, tt.wantOrder) {
				t.Errorf("query ParamOrder %v, want %v", cs.Query.ParamOrder, tt.wantOrder)
			}
		})
	}
}

func TestExplainCreateStreamGoesThroughExplainStmt(t *testing.T) {
	sql := "EXPLAIN CREATE STREAM s WITH (trigger = 'once') AS SELECT a FROM t"
	ex, ok := parseFront(t, sql).(*ExplainStmt)
	if !ok {
		t.Fatalf("Parse(%q) is not an *ExplainStmt", sql)
	}
	cs, ok := ex.Inner.Stmt.(*CreateStreamStmt)
	if !ok {
		t.Fatalf("inner %#v, want a *CreateStreamStmt", ex.Inner.Stmt)
	}
	if got, want := cs.Options, []Option{{Key: "trigger", Value: "once", Pos: 31}}; !reflect.DeepEqual(got, want) {
		t.Errorf("options %v, want %v", got, want)
	}
	if got, want := restore(t, cs.Query.AST), `SELECT "a" FROM "t"`; got != want {
		t.Errorf("query %s, want %s", got, want)
	}
	if got, want := ex.Inner.Text, sql[len("EXPLAIN "):]; got != want {
		t.Errorf("inner Text %q, want %q", got, want)
	}
}

func TestParseLeavesOtherStatementsOfTheSameWordsAlone(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want any // a TiDB AST type, or a front statement
	}{
		{"CREATE TABLE goes to TiDB", "CREATE TABLE t (a int PRIMARY KEY)", (*ast.CreateTableStmt)(nil)},
		{"CREATE TABLE named stream goes to TiDB", "CREATE TABLE stream (a int)", (*ast.CreateTableStmt)(nil)},
		{"DROP TABLE goes to TiDB", "DROP TABLE IF EXISTS t", (*ast.DropTableStmt)(nil)},
		{"ALTER TABLE goes to TiDB", "ALTER TABLE t ADD COLUMN b int", (*ast.AlterTableStmt)(nil)},
		{"a SELECT from a table called streams goes to TiDB", "SELECT * FROM streams", (*ast.SelectStmt)(nil)},
		{"SHOW of a setting stays a ShowStmt", "SHOW stream_setting", &ShowStmt{Name: "stream_setting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewParser().Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.sql, err)
			}
			if want, ok := tt.want.(SluiceStmt); ok {
				if !reflect.DeepEqual(ps[0].Stmt, want) {
					t.Errorf("got %#v, want %#v", ps[0].Stmt, want)
				}
				return
			}
			if ps[0].Stmt != nil || reflect.TypeOf(ps[0].AST) != reflect.TypeOf(tt.want) {
				t.Errorf("got %#v / %T, want %T", ps[0].Stmt, ps[0].AST, tt.want)
			}
		})
	}
}

func TestParseStreamStatementErrors(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		code string
		pos  int
		msg  string
	}{
		{"a column given twice", "CREATE SOURCE s (a int, a bigint)", sqlerr.DuplicateColumn, 25, `column "a" specified more than once`},
		{"an unknown type", "CREATE SOURCE s (a integr)", sqlerr.UndefinedObject, 20, `type "integr" does not exist`},
		{"a type Sluice lacks, after a multibyte name", `CREATE SOURCE "é" (ts timestamp with time zone)`, sqlerr.UndefinedObject, 23, `type "timestamp with time zone" does not exist`},
		{"a width on a type without one", "CREATE SOURCE s (a int(11))", sqlerr.SyntaxError, 23, `syntax error at or near "("`},
		{"a zero varchar width", "CREATE SOURCE s (a varchar(0))", sqlerr.InvalidParameterValue, 28, "length for type varchar must be at least 1"},
		{"a column constraint", "CREATE SOURCE s (a int PRIMARY KEY)", sqlerr.SyntaxError, 24, `syntax error at or near "PRIMARY"`},
		{"no columns", "CREATE SOURCE s () WITH (x = 1)", sqlerr.SyntaxError, 18, `syntax error at or near ")"`},
		{"an option given twice, whatever its case", "CREATE SOURCE s (a int) WITH (connector = 'log', Connector = 'datagen')", sqlerr.DuplicateObject, 50, `option "connector" specified more than once`},
		{"an empty option list", "CREATE SOURCE s (a int) WITH ()", sqlerr.SyntaxError, 31, `syntax error at or near ")"`},
		{"an option without a value", "CREATE SOURCE s (a int) WITH (x)", sqlerr.SyntaxError, 32, `syntax error at or near ")"`},
		{"an option with an empty value", "CREATE SOURCE s (a int) WITH (x = )", sqlerr.SyntaxError, 35, `syntax error at or near ")"`},
		{"an option with a parameter", "CREATE SOURCE s (a int) WITH (x = $1)", sqlerr.SyntaxError, 35, `syntax error at or near "$1"`},
		{"a stream of an INSERT", "CREATE STREAM s AS INSERT INTO t VALUES (1)", sqlerr.SyntaxError, 20, `syntax error at or near "INSERT"`},
		{"a stream of a front statement", "CREATE STREAM s AS SHOW STREAMS", sqlerr.SyntaxError, 20, `syntax error at or near "SHOW"`},
		{"a stream without AS", "CREATE STREAM s WITH (trigger = '1s')", sqlerr.SyntaxError, 38, "syntax error at end of input"},
		{"a stream without a query", "CREATE STREAM s AS", sqlerr.SyntaxError, 19, "syntax error at end of input"},
		{"a stream without a query before another statement", "CREATE STREAM s AS; SELECT 1", sqlerr.SyntaxError, 19, `syntax error at or near ";"`},
		{"a stream option given twice", "CREATE STREAM s WITH (trigger = '1s', sink = 'table', trigger = '5s') AS SELECT 1", sqlerr.DuplicateObject, 55, `option "trigger" specified more than once`},
		{"a quoted option given twice after multibyte characters", `CREATE STREAM s WITH ("ü" = 'a', fields."ü" = 1, "ü" = 2) AS SELECT 1`, sqlerr.DuplicateObject, 50, `option "ü" specified more than once`},
		{"a syntax error in the query after multibyte characters", `CREATE STREAM "größe" AS SELECT 'é' FROM FROM`, sqlerr.SyntaxError, 42, `syntax error at or near "FROM"`},
		{"ALTER STREAM SET without parentheses", "ALTER STREAM s SET trigger = '1s'", sqlerr.SyntaxError, 20, `syntax error at or near "trigger"`},
		{"ALTER STREAM of a string", "ALTER STREAM 'ü' SET (a = 1)", sqlerr.SyntaxError, 14, `syntax error at or near "'ü'"`},
		{"ALTER STREAM with junk after the options", "ALTER STREAM s SET (trigger = '1s') RESTART", sqlerr.SyntaxError, 37, `syntax error at or near "RESTART"`},
		{"PAUSE without STREAM", "PAUSE s", sqlerr.SyntaxError, 7, `syntax error at or near "s"`},
		{"RESUME STREAM without a name", "RESUME STREAM", sqlerr.SyntaxError, 14, "syntax error at end of input"},
		{"DROP STREAM with a trailing comma", "DROP STREAM IF EXISTS a,", sqlerr.SyntaxError, 25, "syntax error at end of input"},
		{"DROP SOURCE CASCADE", "DROP SOURCE s CASCADE", sqlerr.SyntaxError, 15, `syntax error at or near "CASCADE"`},
		{"SUBSCRIBE to two streams", "SUBSCRIBE TO s, t", sqlerr.SyntaxError, 15, `syntax error at or near ","`},
		{"COPY SUBSCRIBE to a file", "COPY (SUBSCRIBE s) TO '/tmp/x'", sqlerr.SyntaxError, 23, `syntax error at or near "'/tmp/x'"`},
		{"COPY SUBSCRIBE without its parenthesis", "COPY (SUBSCRIBE s TO STDOUT", sqlerr.SyntaxError, 19, `syntax error at or near "TO"`},
		{"SHOW STREAMS LIKE", "SHOW STREAMS LIKE 'x'", sqlerr.SyntaxError, 14, `syntax error at or near "LIKE"`},
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

// designWalkthrough is the psql example of DESIGN.md, verbatim.
const designWalkthrough = `-- a source: an append-only, replayable input with a schema
CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT, page VARCHAR(64), latency_ms INT)
  WITH (connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'clicks',
        format = 'json', start_offset = 'earliest', event_time = 'ts', watermark_delay = '5s');

-- a config table: an ordinary mutable table with a primary key
CREATE TABLE page_rules (page VARCHAR(64) PRIMARY KEY, category VARCHAR(32), max_latency INT);
INSERT INTO page_rules VALUES ('/home', 'landing', 800), ('/cart', 'checkout', 300);

-- a continuous query: runs every trigger, joins the config table as a lookup join
CREATE STREAM slow_clicks WITH (trigger = '1s', sink = 'kafka', brokers = '127.0.0.1:9092',
                               topic = 'slow-clicks') AS
  SELECT c.ts, c.user_id, c.page, r.category
  FROM clicks c JOIN page_rules r ON c.page = r.page
  WHERE c.latency_ms > r.max_latency;

-- windowed aggregation into a queryable result table (upsert by group key)
CREATE STREAM latency_by_category WITH (trigger = '5s', sink = 'table') AS
  SELECT TUMBLE_START(c.ts, INTERVAL 1 MINUTE) AS minute, r.category,
         COUNT(*) AS n, AVG(c.latency_ms) AS avg_latency
  FROM clicks c JOIN page_rules r ON c.page = r.page
  GROUP BY TUMBLE(c.ts, INTERVAL 1 MINUTE), r.category;

UPDATE page_rules SET max_latency = 500 WHERE page = '/home';  -- seen from the next batch on
SELECT * FROM latency_by_category ORDER BY minute DESC LIMIT 10;
SUBSCRIBE slow_clicks;                                          -- rows arrive live in psql
SHOW STREAMS;
SELECT * FROM sluice_progress WHERE stream = 'slow_clicks' ORDER BY batch_id DESC LIMIT 5;
ALTER STREAM slow_clicks SET (trigger = '200ms');
PAUSE STREAM slow_clicks; RESUME STREAM slow_clicks; DROP STREAM slow_clicks;
`

func TestParseDesignWalkthrough(t *testing.T) {
	ps, err := NewParser().Parse(designWalkthrough)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	// Each statement: a front statement to compare whole (a
	// CreateStreamStmt without its Query), or the restored TiDB AST.
	type want struct {
		stmt  SluiceStmt
		query string // the restored AST, or a CREATE STREAM's query
	}
	// opt is the option k = v whose key is the first "k =" after the
	// statement that starts with stmt (the walkthrough is ASCII, so byte
	// offsets are character positions).
	opt := func(stmt, k, v string) Option {
		i := strings.Index(designWalkthrough, stmt)
		j := strings.Index(designWalkthrough[i:], k+" =")
		if i < 0 || j < 0 {
			t.Fatalf("%q ... %q is not in the walkthrough", stmt, k)
		}
		return Option{Key: k, Value: v, Pos: i + j + 1}
	}
	const src, slow, byCat, alter = "CREATE SOURCE clicks", "CREATE STREAM slow_clicks", "CREATE STREAM latency_by_category", "ALTER STREAM"
	wants := []want{
		{stmt: &CreateSourceStmt{Name: "clicks", Columns: []ColumnSpec{
			{Name: "ts", Type: sqltypes.Timestamp}, {Name: "user_id", Type: sqltypes.Int64},
			{Name: "page", Type: sqltypes.Varchar(64)}, {Name: "latency_ms", Type: sqltypes.Int32},
		}, Options: []Option{
			opt(src, "connector", "kafka"), opt(src, "brokers", "127.0.0.1:9092"), opt(src, "topic", "clicks"),
			opt(src, "format", "json"), opt(src, "start_offset", "earliest"), opt(src, "event_time", "ts"),
			opt(src, "watermark_delay", "5s"),
		}}},
		{query: `CREATE TABLE "page_rules" ("page" VARCHAR(64) PRIMARY KEY,"category" VARCHAR(32),"max_latency" INT)`},
		{query: `INSERT INTO "page_rules" VALUES ('/home','landing',800),('/cart','checkout',300)`},
		{stmt: &CreateStreamStmt{Name: "slow_clicks", Options: []Option{
			opt(slow, "trigger", "1s"), opt(slow, "sink", "kafka"), opt(slow, "brokers", "127.0.0.1:9092"), opt(slow, "topic", "slow-clicks"),
		}}, query: `SELECT "c"."ts","c"."user_id","c"."page","r"."category" FROM "clicks" AS "c" JOIN "page_rules" AS "r" ON "c"."page"="r"."page" WHERE "c"."latency_ms">"r"."max_latency"`},
		{stmt: &CreateStreamStmt{Name: "latency_by_category", Options: []Option{
			opt(byCat, "trigger", "5s"), opt(byCat, "sink", "table"),
		}}, query: `SELECT TUMBLE_START("c"."ts", SLUICE_INTERVAL('1 minute')) AS "minute","r"."category",COUNT(1) AS "n",AVG("c"."latency_ms") AS "avg_latency" FROM "clicks" AS "c" JOIN "page_rules" AS "r" ON "c"."page"="r"."page" GROUP BY TUMBLE("c"."ts", SLUICE_INTERVAL('1 minute')),"r"."category"`},
		{query: `UPDATE "page_rules" SET "max_latency"=500 WHERE "page"='/home'`},
		{query: `SELECT * FROM "latency_by_category" ORDER BY "minute" DESC LIMIT 10`},
		{stmt: &SubscribeStmt{Name: "slow_clicks"}},
		{stmt: &ShowStreamsStmt{}},
		{query: `SELECT * FROM "sluice_progress" WHERE "stream"='slow_clicks' ORDER BY "batch_id" DESC LIMIT 5`},
		{stmt: &AlterStreamStmt{Name: "slow_clicks", Options: []Option{opt(alter, "trigger", "200ms")}}},
		{stmt: &StreamControlStmt{Name: "slow_clicks", Action: "pause"}},
		{stmt: &StreamControlStmt{Name: "slow_clicks", Action: "resume"}},
		{stmt: &DropStreamStmt{Names: []string{"slow_clicks"}}},
	}
	if len(ps) != len(wants) {
		t.Fatalf("got %d statements, want %d", len(ps), len(wants))
	}
	for i, w := range wants {
		p := ps[i]
		if w.stmt == nil {
			if p.AST == nil {
				t.Errorf("statement %d %q: got %#v, want a TiDB AST", i, p.Text, p.Stmt)
				continue
			}
			if got := restore(t, p.AST); got != w.query {
				t.Errorf("statement %d:\n got %s\nwant %s", i, got, w.query)
			}
			continue
		}
		got := p.Stmt
		if cs, ok := p.Stmt.(*CreateStreamStmt); ok {
			if q := restore(t, cs.Query.AST); q != w.query {
				t.Errorf("statement %d query:\n got %s\nwant %s", i, q, w.query)
			}
			c := *cs
			c.Query = Parsed{}
			got = &c
		}
		if !reflect.DeepEqual(got, w.stmt) {
			t.Errorf("statement %d %q:\n got %#v\nwant %#v", i, p.Text, got, w.stmt)
		}
	}
}
