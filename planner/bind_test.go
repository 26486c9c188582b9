package planner

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testCatalog is a fixed set of table definitions for binder tests.
type testCatalog map[string]catalog.TableDef

func (c testCatalog) TableDef(name string) (catalog.TableDef, error) {
	d, ok := c[name]
	if !ok {
		return d, sqlerr.New(sqlerr.UndefinedTable, "relation %q does not exist", name)
	}
	return d, nil
}

func (c testCatalog) TableNames() []string { return nil }

// SourceDef knows one source, events, with event time ts.
func (c testCatalog) SourceDef(name string) (catalog.SourceDef, bool) {
	if name != "events" {
		return catalog.SourceDef{}, false
	}
	col := func(n string, t sqltypes.Type) catalog.ColumnDef { return catalog.ColumnDef{Name: n, Type: t} }
	return catalog.SourceDef{Name: "events", Connector: "log", EventTime: "ts", WatermarkDelay: 5 * time.Second,
		Columns: []catalog.ColumnDef{
			col("ts", sqltypes.Timestamp), col("user_id", sqltypes.Int64), col("page", sqltypes.Varchar(64)), col("latency_ms", sqltypes.Int32),
		}}, true
}

// StreamColumns knows one stream, slow.
func (c testCatalog) StreamColumns(name string) ([]plan.Column, bool) {
	if name != "slow" {
		return nil, false
	}
	return []plan.Column{{Name: "ts", Type: sqltypes.Timestamp}, {Name: "page", Type: sqltypes.Varchar(64)}}, true
}

func bindTestCatalog() testCatalog {
	col := func(n string, t sqltypes.Type) catalog.ColumnDef { return catalog.ColumnDef{Name: n, Type: t} }
	return testCatalog{
		"clicks": {Name: "clicks", Columns: []catalog.ColumnDef{
			col("ts", sqltypes.Timestamp), col("user_id", sqltypes.Int64), col("page", sqltypes.Varchar(64)), col("latency_ms", sqltypes.Int32),
		}},
		"page_rules": {Name: "page_rules", Columns: []catalog.ColumnDef{
			col("page", sqltypes.Varchar(64)), col("category", sqltypes.Varchar(32)), col("max_latency", sqltypes.Int32),
		}, PrimaryKey: []int{0}},
	}
}

func bindOne(t *testing.T, sql string) (*Bound, error) {
	t.Helper()
	ps, err := NewParser().Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		t.Fatalf("%q parsed to %d statements", sql, len(ps))
	}
	return Bind(BindEnv{Catalog: bindTestCatalog(), Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, ps[0])
}

// TestBindPlansMatchGolden binds each query of testdata/plans.sql and
// compares the printed plan, parameter and result types with
// testdata/plans.golden; go test -update rewrites the golden file.
func TestBindPlansMatchGolden(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "plans.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, q := range strings.Split(string(src), "\n\n") {
		q = strings.TrimSpace(q)
		if q == "" {
			continue
		}
		out.WriteString("-- " + strings.ReplaceAll(q, "\n", "\n-- ") + "\n")
		b, err := bindOne(t, q)
		if err != nil {
			out.WriteString("error " + sqlerr.Code(err) + ": " + err.Error() + "\n\n")
			continue
		}
		var cols []string
		for _, c := range b.Columns {
			cols = append(cols, c.Name+" "+c.Type.String())
		}
		var params []string
		for _, p := range b.ParamTypes {
			params = append(params, p.String())
		}
		if len(cols) > 0 {
			out.WriteString("columns: " + strings.Join(cols, ", ") + "\n")
		}
		if len(params) > 0 {
			out.WriteString("params: " + strings.Join(params, ", ") + "\n")
		}
		out.WriteString(plan.String(b.Stmt) + "\n")
	}
	golden := filepath.Join("testdata", "plans.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./planner -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("plans differ from %s (go test ./planner -update rewrites it; review the diff):\n%s", golden, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl
		}
	}
	return ""
}

func TestBindErrorsCarryPostgresCodes(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		code string
	}{
		{"an unknown table is 42P01", "SELECT * FROM nope", sqlerr.UndefinedTable},
		{"an unknown column is 42703", "SELECT nope FROM clicks", sqlerr.UndefinedColumn},
		{"an ambiguous column is 42702", "SELECT page FROM clicks c JOIN page_rules r ON c.page = r.page", sqlerr.AmbiguousColumn},
		{"an ungrouped column is 42803", "SELECT page, count(*) FROM clicks", sqlerr.GroupingError},
		{"an aggregate in WHERE is 42803", "SELECT 1 FROM clicks WHERE count(*) > 1", sqlerr.GroupingError},
		{"a non-boolean WHERE is 42804", "SELECT 1 FROM clicks WHERE latency_ms", sqlerr.DatatypeMismatch},
		{"comparing integer and text columns is 42883", "SELECT 1 FROM clicks WHERE latency_ms = page", sqlerr.UndefinedFunction},
		{"two unknown literals added is 42725", "SELECT '1' + '2'", sqlerr.AmbiguousFunction},
		{"a bad integer literal for a column is 22P02", "SELECT 1 FROM clicks WHERE latency_ms = 'x'", sqlerr.InvalidTextRepresentation},
		{"an unknown function is 42883", "SELECT nosuch(1)", sqlerr.UndefinedFunction},
		{"an unknown type in a cast is 42704", "SELECT 1::nosuchtype", sqlerr.UndefinedObject},
		{"a boolean into an integer column is 42804", "INSERT INTO page_rules VALUES ('/a', 'b', true)", sqlerr.DatatypeMismatch},
		{"too many values is 42601", "INSERT INTO page_rules VALUES ('/a', 'b', 1, 2)", sqlerr.SyntaxError},
		{"ORDER BY a position past the select list is 42P10", "SELECT page FROM clicks ORDER BY 2", sqlerr.InvalidColumnReference},
		{"DISTINCT with ORDER BY of an unselected column is 42P10", "SELECT DISTINCT page FROM clicks ORDER BY user_id", sqlerr.InvalidColumnReference},
		{"a correlated subquery is refused with 0A000", "SELECT (SELECT 1) FROM clicks", sqlerr.FeatureNotSupported},
		{"a stream over only tables is 0A000", "CREATE STREAM s AS SELECT page FROM clicks", sqlerr.FeatureNotSupported},
		{"a stream-to-stream join is 0A000", "CREATE STREAM s AS SELECT a.page FROM events a JOIN events b ON a.page = b.page", sqlerr.FeatureNotSupported},
		{"ORDER BY in a stream is 0A000", "CREATE STREAM s AS SELECT page FROM events ORDER BY page", sqlerr.FeatureNotSupported},
		{"LIMIT in a stream is 0A000", "CREATE STREAM s AS SELECT page FROM events LIMIT 3", sqlerr.FeatureNotSupported},
		{"a source on the outer side of a LEFT JOIN is 0A000", "CREATE STREAM s AS SELECT r.page FROM page_rules r LEFT JOIN events e ON e.page = r.page", sqlerr.FeatureNotSupported},
		{"append mode without a window is 0A000", "CREATE STREAM s WITH (output_mode = 'append') AS SELECT page, count(*) FROM events GROUP BY page", sqlerr.FeatureNotSupported},
		{"a table sink without the group key selected is 0A000", "CREATE STREAM s AS SELECT count(*) FROM events GROUP BY page", sqlerr.FeatureNotSupported},
		{"an unknown stream option is 42601", "CREATE STREAM s WITH (trigerr = '1s') AS SELECT page FROM events", sqlerr.SyntaxError},
		{"a bad trigger is 22023", "CREATE STREAM s WITH (trigger = 'soon') AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"a bad max_rows_per_batch is 22023", "CREATE STREAM s WITH (max_rows_per_batch = 0) AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"a stream named like a table is 42P07", "CREATE STREAM clicks AS SELECT page FROM events", sqlerr.DuplicateTable},
		{"a source named like a source is 42P07", "CREATE SOURCE events (a INT)", sqlerr.DuplicateTable},
		{"an unknown connector is 22023", "CREATE SOURCE s (a INT) WITH (connector = 'ftp')", sqlerr.InvalidParameterValue},
		{"a kafka source's _key declared as an integer is 42804", "CREATE SOURCE s (a INT, _key BIGINT) WITH (connector = 'kafka', brokers = 'h:1', topic = 't')", sqlerr.DatatypeMismatch},
		{"a bad source max_rows_per_batch is 22023", "CREATE SOURCE s (a INT) WITH (max_rows_per_batch = 'lots')", sqlerr.InvalidParameterValue},
		{"sink 'kafka' without brokers is 22023", "CREATE STREAM s WITH (sink = 'kafka', topic = 'out') AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"sink 'kafka' without a topic is 22023", "CREATE STREAM s WITH (sink = 'kafka', brokers = 'h:1') AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"a kafka sink format other than json is 22023", "CREATE STREAM s WITH (sink = 'kafka', brokers = 'h:1', topic = 'o', format = 'avro') AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"a kafka sink key that is not an output column is 42703", "CREATE STREAM s WITH (sink = 'kafka', brokers = 'h:1', topic = 'o', key = 'user_id') AS SELECT page FROM events", sqlerr.UndefinedColumn},
		{"a Kafka option with another sink is 22023", "CREATE STREAM s WITH (sink = 'table', topic = 'o') AS SELECT page FROM events", sqlerr.InvalidParameterValue},
		{"an event_time column that is not a timestamp is 42804", "CREATE SOURCE s (a INT) WITH (event_time = 'a')", sqlerr.DatatypeMismatch},
		{"a missing event_time column is 42703", "CREATE SOURCE s (a INT) WITH (event_time = 'b')", sqlerr.UndefinedColumn},
		{"a bad watermark_delay is 22023", "CREATE SOURCE s (ts TIMESTAMP) WITH (event_time = 'ts', watermark_delay = 'soon')", sqlerr.InvalidParameterValue},
		{"TUMBLE outside GROUP BY is 42803", "SELECT TUMBLE(ts, INTERVAL '1 minute') FROM events", sqlerr.GroupingError},
		{"TUMBLE_START without a window is 42803", "CREATE STREAM s AS SELECT TUMBLE_START(ts, INTERVAL '1 minute'), count(*) FROM events GROUP BY page", sqlerr.GroupingError},
		{"TUMBLE_START with other arguments is 42803", "CREATE STREAM s AS SELECT TUMBLE_START(ts, INTERVAL '2 minute'), count(*) FROM events GROUP BY TUMBLE(ts, INTERVAL '1 minute')", sqlerr.GroupingError},
		{"a HOP slide larger than its size is 22023", "CREATE STREAM s AS SELECT count(*) FROM events GROUP BY HOP(ts, INTERVAL '2 minute', INTERVAL '1 minute')", sqlerr.InvalidParameterValue},
		{"a window over a non-timestamp is 42804", "CREATE STREAM s AS SELECT count(*) FROM events GROUP BY TUMBLE(latency_ms, INTERVAL '1 minute')", sqlerr.DatatypeMismatch},
		{"ALTER STREAM of a sink is 0A000", "ALTER STREAM slow SET (sink = 'log')", sqlerr.FeatureNotSupported},
		{"SUBSCRIBE to an unknown stream is 42P01", "SUBSCRIBE nope", sqlerr.UndefinedTable},
		{"AS OF VERSION 0 is 22023", "SELECT * FROM page_rules AS OF VERSION 0", sqlerr.InvalidParameterValue},
		{"a cast after AS OF VERSION $1 is 42601", "SELECT * FROM page_rules AS OF VERSION $1::text", sqlerr.SyntaxError},
		{"AS OF VERSION of a source is 0A000", "SELECT * FROM events AS OF VERSION 2", sqlerr.FeatureNotSupported},
		{"AS OF VERSION of a system table is 0A000", "SELECT * FROM sluice_progress AS OF VERSION 2", sqlerr.FeatureNotSupported},
		{"AS OF VERSION of an unknown table is 42P01", "SELECT * FROM nope AS OF VERSION 2", sqlerr.UndefinedTable},
		{"AS OF VERSION in a stream's query is 0A000", "CREATE STREAM s AS SELECT e.page FROM events e JOIN page_rules AS OF VERSION 2 r ON e.page = r.page", sqlerr.FeatureNotSupported},
		{"UPDATE of an old version is 0A000", "UPDATE page_rules AS OF VERSION 2 SET max_latency = 1", sqlerr.FeatureNotSupported},
		{"AS OF TIMESTAMP is 0A000", "SELECT * FROM page_rules AS OF TIMESTAMP now()", sqlerr.FeatureNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bindOne(t, tt.sql)
			if got := sqlerr.Code(err); err == nil || got != tt.code {
				t.Fatalf("%s: got %v (code %s), want code %s", tt.sql, err, got, tt.code)
			}
		})
	}
}

func TestKafkaSourceGetsPseudoColumnsAndMayUseTheRecordTimestamp(t *testing.T) {
	b, err := bindOne(t, "CREATE SOURCE k (_offset BIGINT, page TEXT) WITH (connector = 'kafka', brokers = 'h:1', topic = 't', event_time = '_timestamp', watermark_delay = '1s')")
	if err != nil {
		t.Fatal(err)
	}
	def := b.Stmt.(*plan.CreateSource).Def
	var cols []string
	for _, c := range def.Columns {
		cols = append(cols, c.Name+" "+c.Type.String())
	}
	if got, want := strings.Join(cols, ", "), "_offset bigint, page text, _key text, _partition integer, _timestamp timestamp without time zone"; got != want {
		t.Fatalf("columns %s, want %s", got, want)
	}
	if def.Connector != "kafka" || def.EventTime != "_timestamp" {
		t.Fatalf("connector %q event time %q", def.Connector, def.EventTime)
	}
	b, err = bindOne(t, "CREATE SOURCE l (page TEXT) WITH (connector = 'log')")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.Stmt.(*plan.CreateSource).Def.Columns); n != 1 {
		t.Fatalf("a log source has %d columns, want its 1", n)
	}
}
