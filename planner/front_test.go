package planner

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// restoreFlags print an AST compactly: 'strings', "names", KEYWORDS.
const restoreFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase |
	format.RestoreNameDoubleQuotes | format.RestoreStringWithoutCharset

// restore prints a TiDB AST back to SQL.
func restore(t *testing.T, n ast.Node) string {
	t.Helper()
	var b strings.Builder
	if err := n.Restore(format.NewRestoreCtx(restoreFlags, &b)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return b.String()
}

// parseOne parses sql, which must be one statement handled by TiDB, and
// returns its restored AST.
func parseOne(t *testing.T, sql string) (Parsed, string) {
	t.Helper()
	ps, err := NewParser().Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	if len(ps) != 1 {
		t.Fatalf("Parse(%q) gave %d statements, want 1", sql, len(ps))
	}
	if ps[0].AST == nil {
		t.Fatalf("Parse(%q) gave %#v, want a TiDB AST", sql, ps[0].Stmt)
	}
	return ps[0], restore(t, ps[0].AST)
}

// rawTiDB parses sql with the bare TiDB parser in Sluice's SQL mode and
// returns the restored AST or "error".
func rawTiDB(t *testing.T, sql string) string {
	t.Helper()
	p := parser.New()
	p.SetSQLMode(tidbSQLMode)
	stmts, _, err := p.ParseSQL(sql)
	if err != nil || len(stmts) != 1 {
		return "error"
	}
	return restore(t, stmts[0])
}

func TestKnownTrapsOfTheRawTiDBParserAreTranslated(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		raw  string // what the bare TiDB parser makes of it
		want string // what Sluice's front makes of it
	}{
		{
			name: "a $1 placeholder is a parameter, not a column named $1",
			sql:  "SELECT $1",
			raw:  `SELECT "$1"`,
			want: "SELECT ?",
		},
		{
			name: "an E string is a string with escapes applied, not an identifier E with an alias",
			sql:  `SELECT E'a\tb'`,
			raw:  `SELECT "E" AS "a\tb"`,
			want: "SELECT 'a\tb'",
		},
		{
			name: "a dollar-quoted string is a string, not an identifier",
			sql:  "SELECT $$ab$$",
			raw:  `SELECT "$$ab$$"`,
			want: "SELECT 'ab'",
		},
		{
			name: "x::int is a cast, not a syntax error",
			sql:  "SELECT x::int FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'int') FROM "t"`,
		},
		{
			name: "CAST AS INTEGER takes the PostgreSQL type name",
			sql:  "SELECT CAST(x AS INTEGER) FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'integer') FROM "t"`,
		},
		{
			name: "CAST AS BIGINT takes the PostgreSQL type name",
			sql:  "SELECT CAST(x AS BIGINT) FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'bigint') FROM "t"`,
		},
		{
			name: "CAST AS TEXT takes the PostgreSQL type name",
			sql:  "SELECT CAST(x AS TEXT) FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'text') FROM "t"`,
		},
		{
			name: "CAST AS VARCHAR(n) takes the PostgreSQL type name",
			sql:  "SELECT CAST(x AS VARCHAR ( 10 )) FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'varchar(10)') FROM "t"`,
		},
		{
			name: "CAST AS TIMESTAMP takes the PostgreSQL type name",
			sql:  "SELECT CAST(x AS TIMESTAMP) FROM t",
			raw:  "error",
			want: `SELECT SLUICE_CAST("x", 'timestamp') FROM "t"`,
		},
		{
			name: "INTERVAL '1 minute' is an interval literal",
			sql:  "SELECT INTERVAL '1 minute'",
			raw:  "error",
			want: "SELECT SLUICE_INTERVAL('1 minute')",
		},
		{
			name: "pgx's simple protocol sends a space before ::",
			sql:  "SELECT '40' ::int8 + '1'",
			raw:  "error",
			want: "SELECT SLUICE_CAST('40', 'int8')+'1'",
		},
		{
			name: "SET x TO v is PostgreSQL's SET",
			sql:  "SET x TO 1",
			raw:  "error",
			want: "&{Name:x Value:1 Default:false Local:false}",
		},
		{
			name: "SHOW of a setting is PostgreSQL's SHOW",
			sql:  "SHOW server_version",
			raw:  "error",
			want: "&{Name:server_version}",
		},
		{
			name: "# is not a comment: it hides the rest of the line from the raw parser",
			sql:  "SELECT 1 # 2",
			raw:  "SELECT 1",
			want: "error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawTiDB(t, tt.sql); got != tt.raw {
				t.Errorf("raw TiDB: got %s, want %s", got, tt.raw)
			}
			ps, err := NewParser().Parse(tt.sql)
			got := "error"
			switch {
			case err != nil:
			case ps[0].AST != nil:
				got = restore(t, ps[0].AST)
			default:
				got = fmt.Sprintf("%+v", ps[0].Stmt)
			}
			if got != tt.want {
				t.Errorf("front: got %s, want %s (err %v)", got, tt.want, err)
			}
		})
	}
}

func TestParseRewritesPostgresForTiDB(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string // the restored TiDB AST
	}{
		// Placeholders and literals.
		{"placeholders become markers in text order", "SELECT $2, $1 FROM t WHERE a = $2", `SELECT ?,? FROM "t" WHERE "a"=?`},
		{"an E string applies every PostgreSQL escape", `SELECT E'\b\f\n\r\t\\\'''\101\x41\x4a\u00e9\U0001F600\q'`, "SELECT '\b\f\n\r\t\\''''AAJé😀q'"},
		{"a lowercase e string is an escape string too", `SELECT e'a\nb'`, "SELECT 'a\nb'"},
		{"a backslash in a standard string is itself", `SELECT 'a\nb', 'it''s'`, `SELECT 'a\nb','it''s'`},
		{"a tagged dollar quote may hold $$ and quotes", "SELECT $tag$a$$b'c$tag$", "SELECT 'a$$b''c'"},
		{"a national string is a string", "SELECT N'abc'", "SELECT 'abc'"},
		{"a string continued on the next line is one string", "SELECT 'a'\n  'b' -- c\n'c'", "SELECT 'abc'"},
		{"a word containing dollars is an identifier", "SELECT a$1 FROM t", `SELECT "a$1" FROM "t"`},
		{"a number too long for TiDB's decimal is a numeric cast", "SELECT 0000000000000000000000000000000000000000000000000000000000000000000000000000000000001.5, 123456789012345678901234567890",
			"SELECT SLUICE_CAST('0000000000000000000000000000000000000000000000000000000000000000000000000000000000001.5', 'numeric'),123456789012345678901234567890"},
		{"a negative number after = is two tokens", "SELECT 1 FROM t WHERE a=-1", `SELECT 1 FROM "t" WHERE "a"=-1`},

		// Identifiers.
		{"unquoted identifiers fold to lower case", "SELECT Foo, T.BAR FROM Tab T", `SELECT "foo","t"."bar" FROM "tab" AS "t"`},
		{"quoted identifiers keep their case", `SELECT "Foo", "T"."Bar" FROM "Tab" AS "T"`, `SELECT "Foo","T"."Bar" FROM "Tab" AS "T"`},
		{"a doubled quote in a quoted identifier is a quote", `SELECT "a""b" FROM t`, `SELECT "a""b" FROM "t"`},
		{"keywords TiDB allows are column names", "SELECT status, name, value, type, comment, date, timestamp, text, year, hour, begin, end_ts FROM t",
			`SELECT "status","name","value","type","comment","date","timestamp","text","year","hour","begin","end_ts" FROM "t"`},
		{"only ASCII letters fold, as in PostgreSQL", "SELECT CAFÉ FROM t", `SELECT "cafÉ" FROM "t"`},

		// Comments.
		{"comments are removed, nested ones too", "SELECT /* a /* b */ c */ 1 --x\n+ 2 --", "SELECT 1+2"},
		{"a MySQL executable comment is only a comment", "SELECT 1 /*! + 2 */", "SELECT 1"},

		// Casts.
		{"a cast applies to the literal before it", "SELECT '1'::int8", "SELECT SLUICE_CAST('1', 'int8')"},
		{"a cast applies to a parameter", "SELECT $1::text", "SELECT SLUICE_CAST(?, 'text')"},
		{"a cast applies to a qualified column", `SELECT t.a::int, t."B"::int FROM t`, `SELECT SLUICE_CAST("t"."a", 'int'),SLUICE_CAST("t"."B", 'int') FROM "t"`},
		{"a cast applies to a parenthesised group", "SELECT (a + 1)::text FROM t", `SELECT SLUICE_CAST(("a"+1), 'text') FROM "t"`},
		{"a cast applies to a function call", "SELECT now()::date, count(*)::int FROM t", `SELECT SLUICE_CAST(NOW(), 'date'),SLUICE_CAST(COUNT(1), 'int') FROM "t"`},
		{"casts chain left to right", "SELECT x::text::varchar(3) FROM t", `SELECT SLUICE_CAST(SLUICE_CAST("x", 'text'), 'varchar(3)') FROM "t"`},
		{"a cast binds tighter than unary minus", "SELECT -1::int", "SELECT -SLUICE_CAST(1, 'int')"},
		{"a cast applies to a whole CASE", "SELECT CASE WHEN a THEN 1 ELSE 2 END::text FROM t", `SELECT SLUICE_CAST(CASE WHEN "a" THEN 1 ELSE 2 END, 'text') FROM "t"`},
		{"multi-word type names are normalised", "SELECT x::DOUBLE   PRECISION, x::character varying(5), x::timestamp without time zone, x::pg_catalog.int4 FROM t",
			`SELECT SLUICE_CAST("x", 'double precision'),SLUICE_CAST("x", 'character varying(5)'),SLUICE_CAST("x", 'timestamp without time zone'),SLUICE_CAST("x", 'int4') FROM "t"`},
		{"CAST takes every PostgreSQL type name", "SELECT CAST(a AS BOOLEAN), CAST(a AS DOUBLE PRECISION), CAST(a AS numeric(10, 2)) FROM t",
			`SELECT SLUICE_CAST("a", 'boolean'),SLUICE_CAST("a", 'double precision'),SLUICE_CAST("a", 'numeric(10,2)') FROM "t"`},
		{"CAST of an expression with nested casts", "SELECT CAST(CAST(a AS int) + b::int AS text) FROM t",
			`SELECT SLUICE_CAST(SLUICE_CAST("a", 'int')+SLUICE_CAST("b", 'int'), 'text') FROM "t"`},
		{"a typed literal is a cast of its string", "SELECT DATE '2024-01-02', int8 '5' + 1, double precision '1.5'",
			"SELECT SLUICE_CAST('2024-01-02', 'date'),SLUICE_CAST('5', 'int8')+1,SLUICE_CAST('1.5', 'double precision')"},
		{"a typed literal can be cast again", "SELECT TIMESTAMP '2024-01-02 03:04:05'::text",
			"SELECT SLUICE_CAST(SLUICE_CAST('2024-01-02 03:04:05', 'timestamp'), 'text')"},
		{"a type name followed by no string is a column", "SELECT text, date(ts) FROM t", `SELECT "text",DATE("ts") FROM "t"`},

		// Intervals.
		{"INTERVAL with a quantity and a unit in the string", "SELECT INTERVAL '1 minute'", "SELECT SLUICE_INTERVAL('1 minute')"},
		{"INTERVAL with a quoted number and a unit", "SELECT INTERVAL '5' SECOND", "SELECT SLUICE_INTERVAL('5 second')"},
		{"INTERVAL in MySQL form", "SELECT INTERVAL 1 MINUTE, INTERVAL -2 day, interval 1.5 HOUR", "SELECT SLUICE_INTERVAL('1 minute'),SLUICE_INTERVAL('-2 day'),SLUICE_INTERVAL('1.5 hour')"},
		{"INTERVAL in MySQL form as a function argument", "SELECT TUMBLE_START(ts, INTERVAL 1 MINUTE) FROM t GROUP BY TUMBLE(ts, INTERVAL 1 MINUTE)",
			`SELECT TUMBLE_START("ts", SLUICE_INTERVAL('1 minute')) FROM "t" GROUP BY TUMBLE("ts", SLUICE_INTERVAL('1 minute'))`},
		{"INTERVAL in an expression", "SELECT ts + INTERVAL '1 day' FROM t", `SELECT "ts"+SLUICE_INTERVAL('1 day') FROM "t"`},
		{"an interval cast", "SELECT '1 minute'::interval", "SELECT SLUICE_CAST('1 minute', 'interval')"},

		// Regular expressions.
		{"~ is REGEXP", "SELECT a ~ 'x' FROM t", `SELECT "a" REGEXP 'x' FROM "t"`},
		{"!~ is NOT REGEXP", "SELECT a !~ 'x' FROM t", `SELECT "a" NOT REGEXP 'x' FROM "t"`},
		{"~* is a case-insensitive REGEXP", "SELECT a ~* 'x' FROM t", `SELECT "a" REGEXP CONCAT('(?i)', 'x') FROM "t"`},
		{"!~* is a case-insensitive NOT REGEXP", "SELECT a!~*$1 FROM t", `SELECT "a" NOT REGEXP CONCAT('(?i)', ?) FROM "t"`},
		{"~* wraps a cast operand whole", "SELECT a ~* b::text FROM t", `SELECT "a" REGEXP CONCAT('(?i)', SLUICE_CAST("b", 'text')) FROM "t"`},
		{"unary ~ stays bitwise not", "SELECT ~5, 1 + ~a FROM t", `SELECT ~5,1+~"a" FROM "t"`},
		{"a regex compared with a boolean", "SELECT 1 FROM t WHERE a ~ 'x' = true AND b !~ 'y'", `SELECT 1 FROM "t" WHERE "a" REGEXP 'x'=TRUE AND "b" NOT REGEXP 'y'`},

		// Operator precedence.
		{"arithmetic terms of || are parenthesised", "SELECT 'n=' || n + 1, a - 1 || b * 2 || c FROM t",
			`SELECT CONCAT('n=', ("n"+1)),CONCAT(CONCAT(("a"-1), ("b"*2)), "c") FROM "t"`},
		{"|| alone needs no parentheses", "SELECT a || '-' || -b FROM t", `SELECT CONCAT(CONCAT("a", '-'), -"b") FROM "t"`},
		{"IS NOT DISTINCT FROM is <=>", "SELECT 1 FROM t WHERE a IS NOT DISTINCT FROM b + 1", `SELECT 1 FROM "t" WHERE "a"<=>"b"+1`},
		{"IS DISTINCT FROM is <=> IS FALSE", "SELECT 1 FROM t WHERE a IS DISTINCT FROM b AND c", `SELECT 1 FROM "t" WHERE "a"<=>"b" IS FALSE AND "c"`},
		{"ISNULL and NOTNULL are IS NULL and IS NOT NULL", "SELECT a ISNULL, b NOTNULL FROM t", `SELECT "a" IS NULL,"b" IS NOT NULL FROM "t"`},

		// Statements TiDB parses.
		{"an insert with parameters", "INSERT INTO t (a, b) VALUES ($1, $2)", `INSERT INTO "t" ("a","b") VALUES (?,?)`},
		{"a table definition keeps its types", "CREATE TABLE page_rules (page VARCHAR(64) PRIMARY KEY, category TEXT, max_latency INT)",
			`CREATE TABLE "page_rules" ("page" VARCHAR(64) PRIMARY KEY,"category" TEXT,"max_latency" INT)`},
		{"column types keep their PostgreSQL meaning", "CREATE TABLE IF NOT EXISTS s.t (a real, b float, c float(10), d double precision, e timestamp without time zone, f varchar, g character varying(5) NOT NULL, h int8, i bool DEFAULT true, PRIMARY KEY (a))",
			`CREATE TABLE IF NOT EXISTS "s"."t" ("a" FLOAT,"b" DOUBLE,"c" FLOAT,"d" DOUBLE,"e" TIMESTAMP,"f" TEXT,"g" VARCHAR(5) NOT NULL,"h" BIGINT,"i" TINYINT(1) DEFAULT TRUE,PRIMARY KEY("a"))`},
		{"LIMIT and OFFSET", "SELECT a FROM t ORDER BY a DESC LIMIT 10 OFFSET $1", `SELECT "a" FROM "t" ORDER BY "a" DESC LIMIT ?,10`},

		// Table versions.
		{"AS OF VERSION after a table name is TiDB's AS OF clause", "SELECT * FROM t AS OF VERSION 3", `SELECT * FROM "t" AS OF TIMESTAMP SLUICE_VERSION(3)`},
		{"an alias after AS OF VERSION moves before it", "SELECT r.a FROM t AS OF VERSION 3 r", `SELECT "r"."a" FROM "t" AS "r" AS OF TIMESTAMP SLUICE_VERSION(3)`},
		{"an alias with AS after AS OF VERSION moves before it", `SELECT * FROM t AS OF VERSION 3 AS "R" WHERE "R".a = 1`,
			`SELECT * FROM "t" AS "R" AS OF TIMESTAMP SLUICE_VERSION(3) WHERE "R"."a"=1`},
		{"an alias before AS OF VERSION stays", "SELECT * FROM t AS r AS OF VERSION $1", `SELECT * FROM "t" AS "r" AS OF TIMESTAMP SLUICE_VERSION(?)`},
		{"two versions of one table joined", "SELECT * FROM t AS OF VERSION 1 a JOIN t AS OF VERSION 2 b ON a.k = b.k, u",
			`SELECT * FROM ("t" AS "a" AS OF TIMESTAMP SLUICE_VERSION(1) JOIN "t" AS "b" AS OF TIMESTAMP SLUICE_VERSION(2) ON "a"."k"="b"."k") JOIN "u"`},
		{"a keyword after AS OF VERSION is no alias", "SELECT * FROM t AS OF VERSION 2 WHERE a = 1 ORDER BY a",
			`SELECT * FROM "t" AS OF TIMESTAMP SLUICE_VERSION(2) WHERE "a"=1 ORDER BY "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseOne(t, tt.sql)
			if got != tt.want {
				t.Errorf("Parse(%q):\n got %s\nwant %s", tt.sql, got, tt.want)
			}
		})
	}
}

func TestParseRewrittenText(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string
	}{
		{"a cast keeps the text around it", "SELECT '40' ::int8 + '1'", "select sluice_cast('40', 'int8') + '1'"},
		{"CAST becomes sluice_cast", "SELECT CAST(x AS double precision)", "select sluice_cast(x , 'double precision')"},
		{"an interval becomes sluice_interval", "SELECT TUMBLE(ts, INTERVAL 1 MINUTE)", "select tumble(ts, sluice_interval('1 minute'))"},
		{"regex operators become REGEXP", "SELECT a~b, a !~* 'x'", "select a REGEXP b, a  NOT REGEXP concat('(?i)', 'x')"},
		{"placeholders become ?", "SELECT $1 + $12", "select ? + ?"},
		{"escape and dollar strings become standard literals", `SELECT E'it\'s', $q$a\b$q$`, `select 'it''s', 'a\b'`},
		{"comments become one space", "SELECT/* x */1--y\n", "select 1 \n"},
		{"words are lowercased, quoted names are not", `SELECT A, "B" FROM C`, `select a, "B" from c`},
		{"AS OF VERSION becomes AS OF TIMESTAMP sluice_version, after the alias", "SELECT * FROM t AS OF VERSION 3 r WHERE x",
			"select * from t  r as of timestamp sluice_version(3) where x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := mustRewrite(t, tt.sql)
			if rw.text != tt.want {
				t.Errorf("rewrite(%q) = %q, want %q", tt.sql, rw.text, tt.want)
			}
		})
	}
}

// mustRewrite rewrites the single statement sql.
func mustRewrite(t *testing.T, sql string) *rewritten {
	t.Helper()
	toks, err := lex(sql)
	if err != nil {
		t.Fatalf("lex(%q): %v", sql, err)
	}
	stmts := split(sql, toks)
	rw, err := rewrite(stmts[0])
	if err != nil {
		t.Fatalf("rewrite(%q): %v", sql, err)
	}
	return rw
}

func TestRewriteMapsEveryOffsetBackToTheOriginal(t *testing.T) {
	sql := "SELECT É::int8, $1 FROM t"
	rw := mustRewrite(t, sql)
	// rewritten: "select sluice_cast(É, 'int8'), ? from t"
	tests := []struct {
		name string
		find string // a piece of the rewritten text
		want string // the original text at the offset it maps to
	}{
		{"a keyword maps to itself", "select", "SELECT"},
		{"the inserted function name maps to the cast operand", "sluice_cast", "É::int8"},
		{"a word inside the cast maps to itself", "É", "É::int8"},
		{"the type maps to the ::", "'int8'", "::int8"},
		{"a marker maps to its $n", "?", "$1"},
		{"a word after a rewrite maps to itself", "from", "FROM t"},
		{"the last word maps to itself", " t", " t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off := strings.Index(rw.text, tt.find)
			if off < 0 {
				t.Fatalf("%q not in %q", tt.find, rw.text)
			}
			got := sql[rw.origOffset(off):]
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("offset %d of %q maps to %q, want it to start with %q", off, rw.text, got, tt.want)
			}
		})
	}
	if got := rw.origOffset(len(rw.text)); got != len(sql) {
		t.Errorf("the end maps to %d, want %d", got, len(sql))
	}
}

func TestRewriteOfAsOfVersionMapsBackToTheOriginal(t *testing.T) {
	sql := "SELECT * FROM t AS OF VERSION $1 AS r WHERE x"
	rw := mustRewrite(t, sql)
	// rewritten: "select * from t  as r as of timestamp sluice_version(?) where x"
	tests := []struct {
		name string
		find string // a piece of the rewritten text
		want string // the original text at the offset it maps to
	}{
		{"the moved alias maps to where it was written", "as r", "AS r WHERE"},
		{"the alias name maps to itself", "r as", "r WHERE"},
		{"AS OF maps to itself", "as of", "AS OF VERSION"},
		{"TIMESTAMP maps to VERSION", "timestamp", "VERSION $1"},
		{"the inserted function name maps to the version", "sluice_version", "$1 AS r"},
		{"the marker maps to its $n", "?", "$1 AS r"},
		{"a word after the clause maps to itself", "where", "WHERE x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off := strings.Index(rw.text, tt.find)
			if off < 0 {
				t.Fatalf("%q not in %q", tt.find, rw.text)
			}
			got := sql[rw.origOffset(off):]
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("offset %d of %q maps to %q, want it to start with %q", off, rw.text, got, tt.want)
			}
		})
	}
}

func TestParseSplitsStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string // Text of each statement
	}{
		{"an empty string has no statements", "", nil},
		{"a lone semicolon has no statements", ";", nil},
		{"a comment has no statements", "-- c", nil},
		{"spaces, comments and semicolons have no statements", " ;\n/* ; */ ; -- ;\n", nil},
		{"one statement without a semicolon", "SELECT 1", []string{"SELECT 1"}},
		{"statements split at top-level semicolons", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"empty statements between are dropped", ";;SELECT 1;;;SELECT 2;;", []string{"SELECT 1", "SELECT 2"}},
		{"a semicolon in a string does not split", "SELECT 'a;b'; SELECT 2", []string{"SELECT 'a;b'", "SELECT 2"}},
		{"a semicolon in an escape string does not split", `SELECT E'a\';b'; SELECT 2`, []string{`SELECT E'a\';b'`, "SELECT 2"}},
		{"a semicolon in a quoted identifier does not split", `SELECT 1 AS "a;b"; SELECT 2`, []string{`SELECT 1 AS "a;b"`, "SELECT 2"}},
		{"a semicolon in a comment does not split", "SELECT 1 -- ;\n; SELECT /* ; */ 2", []string{"SELECT 1", "SELECT /* ; */ 2"}},
		{"a semicolon in a dollar quote does not split", "SELECT $$;$$; SELECT $x$;$$;$x$", []string{"SELECT $$;$$", "SELECT $x$;$$;$x$"}},
		{"statements of both kinds mix", "SET x = 1; SELECT $1; SHOW x", []string{"SET x = 1", "SELECT $1", "SHOW x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewParser().Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.sql, err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Text)
				if (p.AST == nil) == (p.Stmt == nil) {
					t.Errorf("statement %q has AST %T and Stmt %T, want exactly one", p.Text, p.AST, p.Stmt)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("Parse(%q) texts = %q, want %q", tt.sql, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		code string
		pos  int    // 1-based character position
		msg  string // the message, or a prefix of it ending in "..."
	}{
		// TiDB's syntax errors, mapped back.
		{"a syntax error names the token as written", "SELECT 1 FROM WHERE", sqlerr.SyntaxError, 15, `syntax error at or near "WHERE"`},
		{"a syntax error after é counts characters, not bytes", "SELECT 'é', from", sqlerr.SyntaxError, 13, `syntax error at or near "from"`},
		{"a syntax error in the second statement is positioned in the whole text", "SELECT 1; SELECT 'ü' 'x', FROM t", sqlerr.SyntaxError, 22, `syntax error at or near "'x'"`},
		{"a TiDB error in the second statement is positioned in the whole text", "SELECT 1;\nSELECT 'é' + FROM t", sqlerr.SyntaxError, 24, `syntax error at or near "FROM"`},
		{"an incomplete last statement ends at the end of input", "SELECT 1; SELECT 2 +", sqlerr.SyntaxError, 21, "syntax error at end of input"},
		{"an incomplete last statement counts trailing spaces", "SELECT ( -- c", sqlerr.SyntaxError, 14, "syntax error at end of input"},
		{"an incomplete statement before another ends at its semicolon", "SELECT 1 +; SELECT 2", sqlerr.SyntaxError, 11, `syntax error at or near ";"`},
		{"a syntax error after a rewritten cast maps back", "SELECT x::int8 FROM FROM", sqlerr.SyntaxError, 21, `syntax error at or near "FROM"`},
		{"a syntax error after a rewritten E string maps back", "SELECT E'é\\n', x y z", sqlerr.SyntaxError, 20, `syntax error at or near "z"`},
		{"a syntax error after a rewritten interval maps back", "SELECT INTERVAL '1 day' + ) ", sqlerr.SyntaxError, 27, `syntax error at or near ")"`},
		{"an error in a later statement fails the whole call", "SELECT 1; SELECT 1 # 2", sqlerr.SyntaxError, 20, "operator # is not supported"},

		// The lexer.
		{"# is not a comment", "SELECT 1 # 2", sqlerr.SyntaxError, 10, "operator # is not supported"},
		{"^ suggests power", "SELECT 2 ^ 3", sqlerr.FeatureNotSupported, 10, "operator ^ is not supported"},
		{"a literal ? is not a placeholder", "SELECT * FROM t WHERE a = ?", sqlerr.SyntaxError, 27, `syntax error at or near "?"`},
		{"a backquote is not a quote", "SELECT `a` FROM t", sqlerr.SyntaxError, 8, "syntax error at or near \"`\""},
		{"an unterminated string", "SELECT 'abc", sqlerr.SyntaxError, 8, `unterminated quoted string at or near "'abc"`},
		{"an unterminated escape string", `SELECT E'ab\'`, sqlerr.SyntaxError, 8, `unterminated quoted string at or near "E'ab\'"`},
		{"an unterminated quoted identifier", `SELECT "abc`, sqlerr.SyntaxError, 8, `unterminated quoted identifier at or near ""abc"`},
		{"an unterminated comment", "SELECT 1 /* a /* b */", sqlerr.SyntaxError, 10, "unterminated /* comment at or near ..."},
		{"an unterminated dollar quote", "SELECT $$a", sqlerr.SyntaxError, 8, `unterminated dollar-quoted string at or near "$$a"`},
		{"a zero-length quoted identifier", `SELECT ""`, sqlerr.SyntaxError, 8, `zero-length delimited identifier at or near """"`},
		{"junk after a number", "SELECT 1abc", sqlerr.SyntaxError, 8, `trailing junk after numeric literal at or near "1abc"`},
		{"a MySQL hex number is junk after a number", "SELECT 0x1F", sqlerr.SyntaxError, 8, `trailing junk after numeric literal at or near "0x1F"`},
		{"junk after a parameter", "SELECT $1a", sqlerr.SyntaxError, 8, `trailing junk after parameter at or near "$1a"`},
		{"parameter zero", "SELECT $0", sqlerr.UndefinedParameter, 8, "there is no parameter $0"},
		{"a NUL in an escape string", `SELECT E'\x00'`, characterNotInRepertoire, 8, "invalid byte sequence for encoding \"UTF8\": 0x00"},
		{"invalid UTF-8 from an escape string", `SELECT E'\xff'`, characterNotInRepertoire, 8, "invalid byte sequence..."},
		{"a lone surrogate", `SELECT E'\ud800x'`, sqlerr.SyntaxError, 10, "invalid Unicode surrogate pair"},
		{"a bit string", "SELECT B'101'", sqlerr.FeatureNotSupported, 8, "bit string literals are not supported"},
		{"a Unicode escape string", "SELECT U&'d0061'", sqlerr.FeatureNotSupported, 8, "Unicode escape literals (U&) are not supported"},
		{"an unknown operator", "SELECT 1 <=> 2", sqlerr.UndefinedFunction, 10, "operator does not exist: <=>"},
		{"MySQL's && is not AND", "SELECT a && b FROM t", sqlerr.UndefinedFunction, 10, "operator does not exist: &&"},
		{"MySQL variables are not supported", "SELECT @x", sqlerr.UndefinedFunction, 8, "operator does not exist: @"},
		{"invalid UTF-8 in the text", "SELECT 'a\xff'", characterNotInRepertoire, 10, "invalid byte sequence for encoding \"UTF8\": 0xff"},
		{"a NUL in the text", "SELECT 'a\x00'", characterNotInRepertoire, 10, "invalid byte sequence for encoding \"UTF8\": 0x00"},
		{"an array subscript", "SELECT a[1] FROM t", sqlerr.FeatureNotSupported, 9, "arrays are not supported"},

		// The rewrite.
		{"a timestamptz column", "CREATE TABLE t (a int, b timestamptz)", sqlerr.FeatureNotSupported, 26, "type timestamp with time zone is not supported"},
		{"a serial column", "CREATE TABLE t (a serial PRIMARY KEY)", sqlerr.FeatureNotSupported, 19, "type serial is not supported"},
		{"adjacent strings on one line", "SELECT 'a' 'b'", sqlerr.SyntaxError, 12, `syntax error at or near "'b'"`},
		{"a string alias", "SELECT 1 AS 'x'", sqlerr.SyntaxError, 13, `syntax error at or near "'x'"`},
		{"LIMIT with a comma", "SELECT 1 LIMIT 1, 2", sqlerr.SyntaxError, 10, "LIMIT #,# syntax is not supported"},
		{"a cast of nothing", "SELECT ::int", sqlerr.SyntaxError, 8, `syntax error at or near "::"`},
		{"a cast without a type", "SELECT 1::", sqlerr.SyntaxError, 11, "syntax error at end of input"},
		{"a cast to an array", "SELECT 1::int[]", sqlerr.FeatureNotSupported, 14, "arrays are not supported"},
		{"CAST without AS", "SELECT CAST(1)", sqlerr.SyntaxError, 14, `syntax error at or near ")"`},
		{"CAST with junk after the type", "SELECT CAST(1 AS int x)", sqlerr.SyntaxError, 22, `syntax error at or near "x"`},
		{"a MySQL interval without a unit", "SELECT INTERVAL 1", sqlerr.SyntaxError, 17, `syntax error at or near "1"`},
		{"an interval unit with a non-number", "SELECT INTERVAL '1 day' HOUR", sqlerr.FeatureNotSupported, 25, "INTERVAL '...' HOUR is supported only with a number"},
		{"an interval field range", "SELECT INTERVAL '1' DAY TO HOUR", sqlerr.FeatureNotSupported, 25, "interval field ranges (DAY TO ...) are not supported"},
		{"|| level operators that PostgreSQL and MySQL order differently", "SELECT a & b | c FROM t", sqlerr.FeatureNotSupported, 14, "operators & and | without parentheses are not supported"},
		{"a regex after ||", "SELECT a ~ b || c FROM t", sqlerr.FeatureNotSupported, 14, "operators ~ and || without parentheses are not supported"},
		{"a regex after a comparison", "SELECT a = b ~ c FROM t", sqlerr.FeatureNotSupported, 14, "operators a comparison and ~ without parentheses are not supported"},
		{"a case-insensitive regex with arithmetic after it", "SELECT a ~* b || 'x' FROM t", sqlerr.FeatureNotSupported, 15, "operators ~ and || without parentheses are not supported"},
		{"a case-insensitive regex with a sum on its right", "SELECT a ~* b + c FROM t", sqlerr.FeatureNotSupported, 15, "the right operand of ~* must be a single term here"},
		{"AS OF VERSION of a name", "SELECT * FROM t AS OF VERSION x", sqlerr.SyntaxError, 31, `syntax error at or near "x"`},
		{"AS OF VERSION of a negative number", "SELECT * FROM t AS OF VERSION -1", sqlerr.SyntaxError, 31, `syntax error at or near "-"`},
		{"AS OF VERSION of a decimal", "SELECT * FROM t AS OF VERSION 1.5", sqlerr.SyntaxError, 31, `syntax error at or near "1.5"`},
		{"AS OF VERSION without a version", "SELECT * FROM t AS OF VERSION", sqlerr.SyntaxError, 30, "syntax error at end of input"},
		{"an alias before and after AS OF VERSION", "SELECT * FROM t r AS OF VERSION 3 s", sqlerr.SyntaxError, 35, `syntax error at or near "s"`},
		{"a syntax error after a moved alias maps back", "SELECT * FROM t AS OF VERSION 3 r ON x", sqlerr.SyntaxError, 35, `syntax error at or near "ON"`},
		{"a comparison after IS DISTINCT FROM", "SELECT a IS DISTINCT FROM b = c FROM t", sqlerr.FeatureNotSupported, 29, "operators IS DISTINCT FROM and = without parentheses are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewParser().Parse(tt.sql)
			if err == nil {
				t.Fatalf("Parse(%q) = %d statements, want an error", tt.sql, len(ps))
			}
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v is not a *sqlerr.Error", tt.sql, err, err)
			}
			if e.Code != tt.code || e.Position != tt.pos {
				t.Errorf("Parse(%q) = %s at %d (%v), want %s at %d", tt.sql, e.Code, e.Position, err, tt.code, tt.pos)
			}
			if prefix, ok := strings.CutSuffix(tt.msg, "..."); ok {
				if !strings.HasPrefix(e.Message, prefix) {
					t.Errorf("message %q, want it to start with %q", e.Message, prefix)
				}
			} else if e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestParseNumbersParametersInTextOrder(t *testing.T) {
	tests := []struct {
		name      string
		sql       string
		wantOrder []int
		wantNum   int
	}{
		{"no parameters", "SELECT 1", nil, 0},
		{"parameters in order", "SELECT $1, $2", []int{0, 1}, 2},
		{"parameters out of order and repeated", "SELECT $2 + $1 FROM t WHERE a = $2 AND b = $3", []int{1, 0, 1, 2}, 3},
		{"a gap in the numbers", "SELECT $3", []int{2}, 3},
		{"parameters inside rewrites", "SELECT $2::int, CAST($1 AS text), a ~* $3 FROM t LIMIT $4", []int{1, 0, 2, 3}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := parseOne(t, tt.sql)
			if !equalInts(p.ParamOrder, tt.wantOrder) || p.NumParams != tt.wantNum {
				t.Errorf("ParamOrder %v NumParams %d, want %v %d", p.ParamOrder, p.NumParams, tt.wantOrder, tt.wantNum)
			}
			v := &paramVisitor{}
			p.AST.Accept(v)
			if len(v.marks) != len(tt.wantOrder) {
				t.Fatalf("%d markers in the AST, want %d", len(v.marks), len(tt.wantOrder))
			}
			for k, m := range v.marks {
				if m.Order != k {
					t.Errorf("marker %d (offset %d) has Order %d, want %d", k, m.Offset, m.Order, k)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParserIsReusableAcrossCalls(t *testing.T) {
	p := NewParser()
	for i := 0; i < 3; i++ {
		if _, err := p.Parse("SELECT 1 FROM"); err == nil {
			t.Fatal("want an error")
		}
		ps, err := p.Parse("SELECT $1 FROM t")
		if err != nil {
			t.Fatal(err)
		}
		if got := restore(t, ps[0].AST); got != `SELECT ? FROM "t"` {
			t.Errorf("got %s", got)
		}
		m := ps[0].AST.(*ast.SelectStmt).Fields.Fields[0].Expr.(*test_driver.ParamMarkerExpr)
		if m.Order != 0 {
			t.Errorf("Order %d", m.Order)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT '40' ::int8 + '1'", "SELECT $1::text, E'\\x41', $$a$$ FROM t WHERE a ~* 'x'",
		"SELECT CAST(a AS varchar(3)) || b * 2", "SET x TO 1; SHOW ALL", "SELECT INTERVAL 1 MINUTE",
		"SELECT 'é' /* c */ -- d\n", "EXPLAIN SELECT a IS DISTINCT FROM b", "SELECT (((", "SELECT ::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_, err := NewParser().Parse(sql)
		if err == nil {
			return
		}
		var e *sqlerr.Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse(%q): %T %v is not a *sqlerr.Error", sql, err, err)
		}
		if e.Code == sqlerr.InternalError {
			t.Fatalf("Parse(%q): internal error %v (%s)", sql, err, e.Detail)
		}
		if n := len([]rune(sql)); e.Position < 0 || e.Position > n+1 {
			t.Fatalf("Parse(%q): position %d outside 0..%d", sql, e.Position, n+1)
		}
	})
}
