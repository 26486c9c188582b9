// Package sqltests runs sqllogictest-style scripts over the PostgreSQL wire
// protocol: against Sluice (TestSQL, one fresh in-process server per script)
// and against a throwaway PostgreSQL 15 cluster (TestDifferential), which is
// the oracle the expected results are checked against. A script that passes
// on both is a differential test: Sluice gives what PostgreSQL gives.
//
// The package holds no production code. slt.go parses scripts and runs them
// over pgx connections that an engine hands out; runner_test.go runs every
// script as subtests and holds the runner's own tests; sluice_test.go starts
// Sluice servers; differential_test.go starts PostgreSQL (initdb into a
// temporary directory, run as the postgres user when the test runs as root,
// one cluster for all scripts and a fresh database per script and protocol).
// TestDifferential skips only when PostgreSQL 15 is not installed (or, as
// root, there is no postgres user to run it as).
//
// # Running
//
//	go test ./sqltests                          # both engines, every script, both protocols
//	go test ./sqltests -run 'TestSQL/select'    # one script against Sluice
//	go test ./sqltests -update                  # rewrite expected rows in place; review the diff
//	go test ./sqltests -sluice.log              # print the server's log of failing scripts
//
// Every script runs twice per engine: once over the extended protocol as pgx
// sends it by default (named prepared statements, cached per connection;
// results in binary for bool, integer, float, text, date and timestamp
// types, which the runner decodes and prints in PostgreSQL's text form,
// text for the rest), and once over the simple protocol (one Query message
// per record, as psql sends it; results in text, compared as sent).
//
// -update rewrites the expected rows of query records whose result differs,
// from the extended-protocol run (from the simple one for records that only
// it runs). A record that PostgreSQL runs is rewritten from PostgreSQL only
// (the oracle), so run -update where PostgreSQL 15 is installed; a record
// only Sluice runs (onlyif sluice, skipif postgres) is rewritten from Sluice.
// Error expectations and type letters are never rewritten. Review the diff.
//
// A failure names the script, the record's line, the protocol and the SQL,
// then the rows as a diff (- want, + got) or the error with its SQLSTATE and
// position. A script goes on after a failed record, as sqllogictest does; a
// lost connection fails its record and later records run on a new session.
//
// # Script format
//
// A script is a sequence of records separated by blank lines. Lines starting
// with # between records are comments. A record starts with a directive line;
// SQL runs from the next line to the first blank line (or to ---- in a query),
// so SQL cannot contain blank lines. Inside the SQL a leading # is SQL, not a
// comment.
//
//	statement ok
//	CREATE TABLE t (a INT PRIMARY KEY, b TEXT)
//
// runs the SQL and expects success. Rows it returns are ignored.
//
//	statement count 2
//	UPDATE t SET b = 'x' WHERE a < 3
//
// expects success and the command tag's row count ("UPDATE 2") to be 2.
//
//	statement error 23505
//	statement error 42601 @8
//	statement error 42601 @8 syntax error at or near
//	statement error relation "\w+" does not exist
//
// expect an error. The pattern is, in order and each optional: a SQLSTATE
// (five characters of 0-9 and A-Z), an @n that the error's position must
// equal (1-based characters, as PostgreSQL reports for syntax errors), and a
// Go regular expression that must match somewhere in the message. A bare
// "statement error" accepts any error reported by the server. Prefer the
// SQLSTATE alone in scripts both engines run: message wording is not part
// of the compatibility promise, the code is.
//
//	query ITR rowsort
//	SELECT a, b, c FROM t
//	----
//	1 | x | 1.5
//	2 | NULL | (empty)
//
// runs a query. The letters give the number of columns and the type of each,
// checked against the type OIDs of the RowDescription:
//
//	T  text, varchar, char, name, unknown
//	I  smallint, integer, bigint
//	R  real, double precision
//	N  numeric (PostgreSQL only: keep it out of shared records, see below)
//	B  boolean
//	D  date, timestamp, timestamptz, time
//	V  interval
//
// The sort mode is one of nosort (the default: rows must come in this order;
// use it only with ORDER BY), rowsort (rows compared as sorted lines), and
// valuesort (every value compared as a sorted list, one value per line).
//
// Each row is one line, values joined by " | ", each in PostgreSQL's text
// output form (t/f for booleans, 2024-01-01 00:01:00 for timestamps, the
// shortest exact decimal for floats as with extra_float_digits = 1). NULL is
// printed NULL and the empty string (empty). In a value, \ | tab newline and
// carriage return are escaped as \\ \| \t \n \r, spaces at either end as \s,
// and a value that reads NULL or (empty) gets a leading \. So every line
// decodes one way, and no line holds a tab or trailing space.
//
//	query error 22012
//	SELECT 1 / 0
//
// is a query expected to fail, with the same pattern as statement error.
//
// # Conditions and control directives
//
//	skipif sluice
//	onlyif postgres
//	onlyif simple
//
// before a record run it only on, or skip it on, the named engine (sluice
// or postgres) or protocol (simple or extended). Several conditions may
// precede one record; all must hold. Protocol conditions are for what the
// protocols do differently by definition: several statements in one string,
// or $1 (which the extended protocol prepares as a parameter, and pgx then
// refuses to run without an argument).
//
//	halt
//
// stops the script (usually under a condition: "onlyif sluice" then "halt").
//
//	restart
//
// closes every connection and restarts the server on the same data directory:
// committed data must survive, session state must not. Against PostgreSQL it
// only reconnects (the oracle's durability is not under test), so restart
// records may be shared.
//
//	connection other
//
// makes later records run on the named connection, opened on first use
// ("default" is the one every script starts on). For tests where one
// session's write must be seen, or not yet seen, by another.
//
// # Shared records and where PostgreSQL differs by design
//
// Records without conditions run on both engines, so their expected results
// are what PostgreSQL 15 prints (the oracle cluster runs with locale C, so
// text sorts bytewise, and TimeZone UTC). Sluice has no NUMERIC type: in
// PostgreSQL avg() of integers, sum() of bigint and decimal literals such as
// 1.5 are numeric (printed 2.5000000000000000), in Sluice double precision.
// Shared records cast them: avg(x)::float8, sum(x)::bigint, 1.5::float8.
// Sluice-only syntax (SHOW TABLES, DESCRIBE, CREATE SOURCE) goes under
// onlyif sluice, and what PostgreSQL prints differently on purpose (version(),
// server_version) under onlyif or skipif with a comment saying why.
//
// # Streaming directives
//
// Streams run on a processing-time clock that only the script moves (the
// Sluice engine starts its server with a stream.ManualClock), so every
// batch holds exactly the rows the script put before it; nothing sleeps.
//
//	engine sluice            (before the first record) every record runs on
//	                         Sluice only: a script of Sluice's own statements;
//	                         TestDifferential leaves such scripts out
//	advance <duration>       wait until no stream is in the middle of a batch,
//	                         then move the clock forward (advance 1s): the
//	                         triggers that fall due start their batches
//	wait <stream> <batch>    wait until the stream has committed that batch id
//	wait <stream> <status>   wait until the stream has that status (finished)
//
// SUBSCRIBE is tested over the wire by server's and cmd/sluice's tests (pgx
// CopyTo and psql), not by scripts. Names reserved for later: append, run,
// watermark, subscribe, crash (kill -9 and recovery, with the checkpoint).
package sqltests
