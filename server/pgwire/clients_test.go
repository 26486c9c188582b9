package pgwire_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/server/pgwire"
)

// The expected psql outputs below are what psql 15 prints for the same
// commands against PostgreSQL 15 (checked by running both).

const psqlOneQuery = `SELECT 1::int4 AS a, 'x'::text AS b, true AS c, NULL::int8 AS d, 1.5::float8 AS e, '2020-01-02 03:04:05.5'::timestamp AS f, '1 day 02:00:00'::interval AS g, '2020-01-02'::date AS h`

const psqlOneQueryOut = ` a | b | c | d |  e  |           f           |       g        |     h      
---+---+---+---+-----+-----------------------+----------------+------------
 1 | x | t |   | 1.5 | 2020-01-02 03:04:05.5 | 1 day 02:00:00 | 2020-01-02
(1 row)

`

const psqlMultiOut = ` x 
---
 1
(1 row)

 y | z 
---+---
 a | 2
(1 row)

`

const psqlFile = `SELECT 'first'::text AS step;
SELECT 1::int2 AS a, 2::int8 AS b,
       3.25::float4 AS c;
SELECT '1999-12-31 23:59:59'::timestamp AS ts, '-1 mons +2 days 01:00:00'::interval AS iv;
SELEC oops;
SELECT 'never'::text AS step;
`

const psqlFileOut = ` step  
-------
 first
(1 row)

 a | b |  c   
---+---+------
 1 | 2 | 3.25
(1 row)

         ts          |            iv            
---------------------+--------------------------
 1999-12-31 23:59:59 | -1 mons +2 days 01:00:00
(1 row)

`

const psqlFileErr = `psql:FILE:5: ERROR:  syntax error at or near "SELEC"
LINE 1: SELEC oops;
        ^
`

func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	ts := startServer(t, pgwire.Config{})
	file := filepath.Join(t.TempDir(), "script.sql")
	if err := os.WriteFile(file, []byte(psqlFile), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		args               []string
		wantOut, wantErr   string
		wantExit           int
		replaceFileInError bool
	}{
		{"one query of every kind of column", []string{"-c", psqlOneQuery}, psqlOneQueryOut, "", 0, false},
		{"several statements in one -c", []string{"-c", "SELECT 1 AS x; SELECT 'a'::text AS y, 2 AS z"}, psqlMultiOut, "", 0, false},
		{"a syntax error points at its position", []string{"-c", "SELEC 1"}, "", "ERROR:  syntax error at or near \"SELEC\"\nLINE 1: SELEC 1\n        ^\n", 1, false},
		{"a script stops at its first error", []string{"-v", "ON_ERROR_STOP=1", "-f", file}, psqlFileOut, psqlFileErr, 3, true},
		{"unaligned tuples only", []string{"-At", "-c", "SELECT 'a b'::varchar(5) AS x, 7::int4 AS y"}, "a b|7\n", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-X", "-h", ts.host(), "-p", ts.port(), "-U", "u", "-d", "d"}, tc.args...)
			cmd := exec.Command(psql, args...)
			cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer", "PGAPPNAME=psql-test")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			exit := 0
			if ee, ok := err.(*exec.ExitError); ok {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			wantErr := tc.wantErr
			if tc.replaceFileInError {
				wantErr = string(bytes.ReplaceAll([]byte(wantErr), []byte("FILE"), []byte(file)))
			}
			if stdout.String() != tc.wantOut || stderr.String() != wantErr || exit != tc.wantExit {
				t.Errorf("psql %v\nexit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s",
					tc.args, exit, stdout.String(), stderr.String(), tc.wantExit, tc.wantOut, wantErr)
			}
		})
	}
}

// TestNodePostgres runs testdata/node/test.js, a node-postgres client, if
// node and the script's dependencies (npm ci in testdata/node) are there.
func TestNodePostgres(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := filepath.Join("testdata", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		t.Skip("node-postgres is not installed: run npm ci in server/pgwire/testdata/node")
	}
	ts := startServer(t, pgwire.Config{})
	cmd := exec.Command(node, "test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PGHOST="+ts.host(), "PGPORT="+ts.port(), "PGUSER=u", "PGDATABASE=d", "PGCONNECT_TIMEOUT=10")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node test.js: %v\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}
	want := map[string]any{
		"params": map[string]any{"i": 42.0, "t": "héllo", "b": true, "f": 2.5, "n": nil, "big": "9007199254740993", "ts": "2020-01-02 03:04:05.5"},
		"types": map[string]any{
			"b": true, "i2": -32768.0, "i4": 2147483647.0, "i8": "-9223372036854775808", "f4": 1.5, "f8": 1e100,
			"t": "héllo, 'world'", "vc": "abc", "ts": "2020-01-02 03:04:05.123456", "d": "1999-12-31",
			"iv": "1 year 2 mons 3 days 04:05:06.5",
		},
		"error":    map[string]any{"code": "22012", "message": "division by zero", "detail": "the detail", "hint": "the hint"},
		"after":    3.0,
		"series":   5050.0,
		"cleanEnd": true,
	}
	gotJSON, _ := json.MarshalIndent(got, "", "  ")
	wantJSON, _ := json.MarshalIndent(want, "", "  ")
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
	}
}
