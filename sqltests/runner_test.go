package sqltests

import (
	"bytes"
	"flag"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	update = flag.Bool("update", false,
		"rewrite the expected rows of failing query records in testdata/*.slt (see doc.go for which engine rewrites which record)")
	sluiceLog = flag.Bool("sluice.log", false, "print the Sluice server's log of a script that fails")
)

// loadScripts parses every testdata/*.slt file.
func loadScripts(t *testing.T) []*script {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/*.slt scripts")
	}
	var scripts []*script
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseScript(p, src)
		if err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, s)
	}
	return scripts
}

// engineFactory returns the engine one run of a script uses: a fresh
// server or database, cleaned up by t.
type engineFactory func(t *testing.T, s *script, p protocol) engine

// runScripts runs every script against engines from newEngine, as a
// parallel subtest per script with a subtest per protocol. mayUpdate says
// which records this engine rewrites under -update.
func runScripts(t *testing.T, scripts []*script, newEngine engineFactory, mayUpdate func(*record) bool) {
	for _, s := range scripts {
		name := strings.TrimSuffix(filepath.Base(s.name), ".slt")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			updates := map[int][]string{}
			for _, p := range []protocol{extended, simple} {
				t.Run(p.String(), func(t *testing.T) {
					eng := newEngine(t, s, p)
					opts := runOptions{protocol: p}
					if *update {
						// From the extended run, and from the simple run the
						// records that do not run over the extended protocol.
						opts.update = func(r *record) bool {
							return mayUpdate(r) && (p == extended || !r.applies(eng.Name(), extended))
						}
					}
					res := runScript(t.Context(), s, eng, opts)
					for _, f := range res.failures {
						t.Error(f.String())
					}
					if res.aborted != "" {
						t.Errorf("script stopped early: %s", res.aborted)
					}
					if res.executed == 0 {
						t.Errorf("%s: no record ran against %s: a script that runs nothing tests nothing", s.name, eng.Name())
					}
					t.Logf("%s: %d records run, %d skipped by conditions, %d failed",
						eng.Name(), res.executed, res.skipped, len(res.failures))
					maps.Copy(updates, res.updates)
				})
			}
			if len(updates) > 0 {
				writeUpdates(t, s.name, updates)
			}
		})
	}
}

// writeUpdates rewrites a script's expected rows in place.
func writeUpdates(t *testing.T, path string, updates map[int][]string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rewrite(path, src, updates)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(src, out) {
		return
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("-update: rewrote the expected rows of %d records in %s", len(updates), path)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (a server's log).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestParseScript(t *testing.T) {
	src := `# a comment
statement ok
CREATE TABLE t (a INT)

skipif postgres
statement count 2
INSERT INTO t
VALUES (1), (2)

statement error 42601 @8 syntax error at or near "x"
SELECT 1 x y

query IT rowsort
SELECT a, 'x' FROM t
----
1 | x
2 | x

query error 22012
SELECT 1/0

onlyif sluice
restart

connection other

onlyif sluice
halt
`
	s, err := parseScript("t.slt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s.records), 8; got != want {
		t.Fatalf("got %d records, want %d", got, want)
	}
	r := s.records
	if r[0].kind != kindStatement || r[0].sql != "CREATE TABLE t (a INT)" || r[0].line != 2 || r[0].wantErr != nil {
		t.Errorf("statement ok parsed as %+v", r[0])
	}
	if r[1].wantCount != 2 || r[1].sql != "INSERT INTO t\nVALUES (1), (2)" || r[1].appliesTo(enginePostgres) || !r[1].appliesTo(engineSluice) {
		t.Errorf("statement count parsed as %+v", r[1])
	}
	if e := r[2].wantErr; e == nil || e.code != "42601" || e.pos != 8 || e.re.String() != `syntax error at or near "x"` {
		t.Errorf("statement error parsed as %+v", r[2].wantErr)
	}
	if r[3].types != "IT" || r[3].sort != rowSort || !slices.Equal(r[3].expected, []string{"1 | x", "2 | x"}) || r[3].expFrom != 15 || r[3].expTo != 17 {
		t.Errorf("query parsed as %+v", r[3])
	}
	if e := r[4].wantErr; r[4].kind != kindQuery || e == nil || e.code != "22012" || e.re != nil || e.pos != 0 {
		t.Errorf("query error parsed as %+v", r[4])
	}
	if r[5].kind != kindRestart || r[5].appliesTo(enginePostgres) {
		t.Errorf("restart parsed as %+v", r[5])
	}
	if r[6].kind != kindConnection || r[6].connName != "other" {
		t.Errorf("connection parsed as %+v", r[6])
	}
	if r[7].kind != kindHalt || r[7].appliesTo(enginePostgres) {
		t.Errorf("halt parsed as %+v", r[7])
	}
}

func TestParseScriptRejectsMistakes(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"an unknown directive is an error", "statment ok\nSELECT 1\n", `t.slt:1: unknown directive "statment"`},
		{"a reserved streaming directive is an error", "run s batches 2\n", `t.slt:1: directive "run" is reserved`},
		{"a query without ---- is an error", "query I\nSELECT 1\n", "t.slt:1: query has no ----"},
		{"a statement with rows is an error", "statement ok\nSELECT 1\n----\n1\n", "t.slt:3: ---- in a record"},
		{"an unknown type letter is an error", "query X\nSELECT 1\n----\n1\n", "unknown column type 'X'"},
		{"a record without SQL is an error", "statement ok\n\nSELECT 1\n", "t.slt:1: record has no SQL"},
		{"a bad error regexp is an error", "statement error 42601 (\nSELECT\n", "bad error pattern"},
		{"a condition on nothing is an error", "statement ok\nSELECT 1\n\nskipif sluice\n", "applies to nothing"},
		{"an unknown engine is an error", "skipif mysql\nstatement ok\nSELECT 1\n", `t.slt:1: want "skipif" followed by one of sluice, postgres, extended, simple`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseScript("t.slt", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		in   *string
		want string
	}{
		{"NULL prints NULL", nil, "NULL"},
		{"the empty string prints (empty)", str(""), "(empty)"},
		{"the text NULL is escaped", str("NULL"), `\NULL`},
		{"the text (empty) is escaped", str("(empty)"), `\(empty)`},
		{"inner spaces stay", str("a b"), "a b"},
		{"spaces at the ends are escaped", str(" a  "), `\sa\s\s`},
		{"a value of spaces is escaped", str("  "), `\s\s`},
		{"control characters are escaped", str("a\tb\nc\r"), `a\tb\nc\r`},
		{"backslash and bar are escaped", str(`a\b|c`), `a\\b\|c`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatValue(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{1.5, 64, "1.5"},
		{-2, 64, "-2"},
		{math.Nextafter(0.3, 1), 64, "0.30000000000000004"},
		{1e15, 64, "1e+15"},
		{123456789012345, 64, "123456789012345"},
		{1e-5, 64, "1e-05"},
		{0.0001, 64, "0.0001"},
		{1e100, 64, "1e+100"},
		{0, 64, "0"},
		{float64(float32(1234567)), 32, "1.234567e+06"},
		{123456, 32, "123456"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(1e6)), 32, "1e+06"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.f, tt.bits); got != tt.want {
			t.Errorf("formatFloat(%v, %d) = %q, want %q", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestRewriteReplacesOnlyExpectedRows(t *testing.T) {
	src := "query I\nSELECT 1\n----\n2\n\n# keep\nquery I\nSELECT 3\n----\n\nstatement ok\nSELECT 4\n"
	got, err := rewrite("t.slt", []byte(src), map[int][]string{0: {"1"}, 1: {"3", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "query I\nSELECT 1\n----\n1\n\n# keep\nquery I\nSELECT 3\n----\n3\n3\n\nstatement ok\nSELECT 4\n"
	if string(got) != want {
		t.Errorf("rewrite gave\n%s\nwant\n%s", got, want)
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff([]string{"1", "2", "3"}, []string{"1", "x", "3", "4"})
	want := "  1\n- 2\n+ x\n  3\n+ 4\n"
	if got != want {
		t.Errorf("lineDiff gave\n%s\nwant\n%s", got, want)
	}
}

func TestBinaryToText(t *testing.T) {
	be := func(n int, v uint64) []byte {
		b := make([]byte, n)
		for i := n - 1; i >= 0; i-- {
			b[i] = byte(v)
			v >>= 8
		}
		return b
	}
	const day = 86_400_000_000
	tests := []struct {
		name string
		oid  uint32
		in   []byte
		want string
	}{
		{"a boolean prints t or f", oidBool, []byte{1}, "t"},
		{"a negative smallint", oidInt2, be(2, uint64(0xffff)), "-1"},
		{"a bigint", oidInt8, be(8, 1<<40), "1099511627776"},
		{"a double", oidFloat8, be(8, math.Float64bits(0.25)), "0.25"},
		{"a real", oidFloat4, be(4, uint64(math.Float32bits(1234567))), "1.234567e+06"},
		{"a date counts days from 2000-01-01", oidDate, be(4, 31), "2000-02-01"},
		{"a date before 2000", oidDate, be(4, uint64(0xffffffff)), "1999-12-31"},
		{"a timestamp drops a zero fraction", oidTimestamp, be(8, day+61_000_000), "2000-01-02 00:01:01"},
		{"a timestamp keeps microseconds", oidTimestamp, be(8, 1_500_000), "2000-01-01 00:00:01.5"},
		{"a timestamp before 2000", oidTimestamp, be(8, uint64(0xffffffffffffffff)), "1999-12-31 23:59:59.999999"},
		{"infinity", oidTimestamp, be(8, math.MaxInt64), "infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := binaryToText(tt.oid, tt.in)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	if _, err := binaryToText(oidInt8, []byte{1, 2}); err == nil {
		t.Error("a 2-byte bigint decoded without error")
	}
}
