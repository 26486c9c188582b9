package sqltests

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Engine names, as skipif and onlyif spell them.
const (
	engineSluice   = "sluice"
	enginePostgres = "postgres"
)

// conditionNames are what skipif and onlyif may name: an engine or a
// protocol (protocol.String).
var conditionNames = []string{engineSluice, enginePostgres, "extended", "simple"}

// recordKind is what a record does.
type recordKind int

const (
	kindStatement  recordKind = iota // statement ok, statement count n, statement error
	kindQuery                        // query <types> [sort], query error
	kindHalt                         // halt
	kindRestart                      // restart
	kindConnection                   // connection <name>
	kindAdvance                      // advance <duration>
	kindWait                         // wait <stream> <batch>
)

// sortMode is how a query's rows are compared.
type sortMode int

const (
	noSort sortMode = iota
	rowSort
	valueSort
)

// condition is one skipif or onlyif line.
type condition struct {
	only bool   // onlyif; otherwise skipif
	name string // an engine or a protocol
}

// errorSpec is what statement error and query error expect.
type errorSpec struct {
	code string         // SQLSTATE; "" matches any
	pos  int            // 1-based character position; 0 is not checked
	re   *regexp.Regexp // matched against the message; nil matches any
}

// record is one record of a script.
type record struct {
	kind  recordKind
	line  int // 1-based line of the directive
	conds []condition
	sql   string
	// sqlLine is the 1-based line where the SQL starts.
	sqlLine int

	wantErr   *errorSpec // statement error, query error
	wantCount int64      // statement count; -1 when not checked

	types    string   // query: one letter per column
	sort     sortMode // query
	expected []string // query: expected lines after ----
	// expFrom and expTo are the 0-based line indexes [expFrom, expTo) of
	// the expected lines, for -update.
	expFrom, expTo int

	connName string // connection

	advance    time.Duration // advance
	waitStream string        // wait
	waitBatch  int64         // wait
	waitStatus string        // wait for a status instead of a batch
}

// script is a parsed script file.
type script struct {
	name    string // file name, for messages
	lines   []string
	records []*record
}

// sqlstateRE matches a SQLSTATE.
var sqlstateRE = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// reservedDirectives are names kept for the streaming directives doc.go
// describes; a script using one is refused until they are implemented.
var reservedDirectives = []string{"append", "run", "watermark", "subscribe", "crash"}

// parseScript parses a script. Errors name the file and line.
func parseScript(name string, src []byte) (*script, error) {
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	s := &script{name: name, lines: lines}
	var conds []condition
	var scriptConds []condition // from "engine <name>"
	errAt := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
	}
	isBlank := func(i int) bool { return strings.TrimSpace(lines[i]) == "" }

	for i := 0; i < len(lines); {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		fields := strings.Fields(line)
		rec := &record{line: i + 1, wantCount: -1}
		switch fields[0] {
		case "engine":
			if len(fields) != 2 || (fields[1] != engineSluice && fields[1] != enginePostgres) || len(s.records) > 0 {
				return nil, errAt(i, "want \"engine sluice\" or \"engine postgres\" before the first record")
			}
			scriptConds = []condition{{only: true, name: fields[1]}}
			i++
			continue
		case "advance":
			d, err := time.ParseDuration(afterWord(line, 1))
			if len(fields) != 2 || err != nil || d <= 0 {
				return nil, errAt(i, "want \"advance <duration>\", such as advance 1s")
			}
			rec.kind, rec.advance = kindAdvance, d
			rec.conds, conds = append(append([]condition{}, scriptConds...), conds...), nil
			s.records = append(s.records, rec)
			i++
			continue
		case "wait":
			var n int64
			var err error
			status := ""
			if len(fields) == 3 {
				if n, err = strconv.ParseInt(fields[2], 10, 64); err != nil && !strings.ContainsAny(fields[2][:1], "0123456789-") {
					status, err = fields[2], nil
				}
			}
			if len(fields) != 3 || err != nil || n < 0 {
				return nil, errAt(i, "want \"wait <stream> <batch id>\" or \"wait <stream> <status>\"")
			}
			rec.kind, rec.waitStream, rec.waitBatch, rec.waitStatus = kindWait, fields[1], n, status
			rec.conds, conds = append(append([]condition{}, scriptConds...), conds...), nil
			s.records = append(s.records, rec)
			i++
			continue
		case "skipif", "onlyif":
			if len(fields) != 2 || !slices.Contains(conditionNames, fields[1]) {
				return nil, errAt(i, "want %q followed by one of %s", fields[0], strings.Join(conditionNames, ", "))
			}
			conds = append(conds, condition{only: fields[0] == "onlyif", name: fields[1]})
			i++
			continue
		case "halt", "restart":
			if len(fields) != 1 {
				return nil, errAt(i, "%s takes no arguments", fields[0])
			}
			rec.kind = kindHalt
			if fields[0] == "restart" {
				rec.kind = kindRestart
			}
			rec.conds, conds = append(append([]condition{}, scriptConds...), conds...), nil
			s.records = append(s.records, rec)
			i++
			continue
		case "connection":
			if len(fields) != 2 {
				return nil, errAt(i, "want \"connection <name>\"")
			}
			rec.kind = kindConnection
			rec.connName = fields[1]
			rec.conds, conds = append(append([]condition{}, scriptConds...), conds...), nil
			s.records = append(s.records, rec)
			i++
			continue
		case "statement":
			rec.kind = kindStatement
			if len(fields) < 2 {
				return nil, errAt(i, "want \"statement ok\", \"statement count <n>\" or \"statement error [pattern]\"")
			}
			switch fields[1] {
			case "ok":
				if len(fields) != 2 {
					return nil, errAt(i, "statement ok takes no arguments")
				}
			case "count":
				n, err := strconv.ParseInt(strings.Join(fields[2:], ""), 10, 64)
				if len(fields) != 3 || err != nil || n < 0 {
					return nil, errAt(i, "want \"statement count <n>\"")
				}
				rec.wantCount = n
			case "error":
				spec, err := parseErrorSpec(afterWord(line, 2))
				if err != nil {
					return nil, errAt(i, "%v", err)
				}
				rec.wantErr = spec
			default:
				return nil, errAt(i, "unknown statement kind %q", fields[1])
			}
		case "query":
			rec.kind = kindQuery
			if len(fields) < 2 {
				return nil, errAt(i, "want \"query <types> [sort]\" or \"query error [pattern]\"")
			}
			if fields[1] == "error" {
				spec, err := parseErrorSpec(afterWord(line, 2))
				if err != nil {
					return nil, errAt(i, "%v", err)
				}
				rec.wantErr = spec
				break
			}
			rec.types = fields[1]
			for _, c := range rec.types {
				if !strings.ContainsRune("TIRNBDV", c) {
					return nil, errAt(i, "unknown column type %q in %q (want letters of TIRNBDV)", c, rec.types)
				}
			}
			switch len(fields) {
			case 2:
			case 3:
				switch fields[2] {
				case "nosort":
				case "rowsort":
					rec.sort = rowSort
				case "valuesort":
					rec.sort = valueSort
				default:
					return nil, errAt(i, "unknown sort mode %q (want nosort, rowsort or valuesort)", fields[2])
				}
			default:
				return nil, errAt(i, "want \"query <types> [nosort|rowsort|valuesort]\"")
			}
		default:
			if slices.Contains(reservedDirectives, fields[0]) {
				return nil, errAt(i, "directive %q is reserved for streaming tests and not implemented yet", fields[0])
			}
			return nil, errAt(i, "unknown directive %q", fields[0])
		}
		rec.conds, conds = append(append([]condition{}, scriptConds...), conds...), nil

		// The SQL: up to a blank line, or to ---- in a query.
		i++
		start := i
		for i < len(lines) && !isBlank(i) && strings.TrimSpace(lines[i]) != "----" {
			i++
		}
		if i == start {
			return nil, errAt(start-1, "record has no SQL")
		}
		rec.sqlLine = start + 1
		rec.sql = strings.Join(lines[start:i], "\n")
		hasResults := i < len(lines) && strings.TrimSpace(lines[i]) == "----"
		switch {
		case rec.kind == kindQuery && rec.wantErr == nil:
			if !hasResults {
				return nil, errAt(rec.line-1, "query has no ---- line before its expected rows")
			}
			i++
			rec.expFrom = i
			for i < len(lines) && !isBlank(i) {
				rec.expected = append(rec.expected, strings.TrimRight(lines[i], " \t"))
				i++
			}
			rec.expTo = i
		case hasResults:
			return nil, errAt(i, "---- in a record that expects no rows")
		}
		s.records = append(s.records, rec)
	}
	if len(conds) > 0 {
		return nil, errAt(len(lines)-1, "skipif or onlyif at the end of the script applies to nothing")
	}
	return s, nil
}

// afterWord returns line after its first n words, trimmed.
func afterWord(line string, n int) string {
	for range n {
		line = strings.TrimLeft(line, " \t")
		if j := strings.IndexAny(line, " \t"); j >= 0 {
			line = line[j:]
		} else {
			line = ""
		}
	}
	return strings.TrimSpace(line)
}

// parseErrorSpec parses "[SQLSTATE] [@pos] [regexp]".
func parseErrorSpec(s string) (*errorSpec, error) {
	spec := &errorSpec{}
	if f := strings.Fields(s); len(f) > 0 && sqlstateRE.MatchString(f[0]) {
		spec.code = f[0]
		s = afterWord(s, 1)
	}
	if f := strings.Fields(s); len(f) > 0 && strings.HasPrefix(f[0], "@") {
		n, err := strconv.Atoi(f[0][1:])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad error position %q (want @n, n >= 1)", f[0])
		}
		spec.pos = n
		s = afterWord(s, 1)
	}
	if s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("bad error pattern: %w", err)
		}
		spec.re = re
	}
	return spec, nil
}

// String returns the spec as written.
func (e *errorSpec) String() string {
	var parts []string
	if e.code != "" {
		parts = append(parts, e.code)
	}
	if e.pos > 0 {
		parts = append(parts, "@"+strconv.Itoa(e.pos))
	}
	if e.re != nil {
		parts = append(parts, e.re.String())
	}
	if len(parts) == 0 {
		return "any error"
	}
	return strings.Join(parts, " ")
}

// check reports how err differs from the spec, or "" when it matches.
func (e *errorSpec) check(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "want a server error, got a client-side error"
	}
	var diffs []string
	if e.code != "" && pgErr.Code != e.code {
		diffs = append(diffs, fmt.Sprintf("SQLSTATE %s, want %s", pgErr.Code, e.code))
	}
	if e.pos > 0 && int(pgErr.Position) != e.pos {
		diffs = append(diffs, fmt.Sprintf("position %d, want %d", pgErr.Position, e.pos))
	}
	if e.re != nil && !e.re.MatchString(pgErr.Message) {
		diffs = append(diffs, fmt.Sprintf("message does not match /%s/", e.re))
	}
	if len(diffs) == 0 {
		return ""
	}
	return "wrong error: " + strings.Join(diffs, "; ")
}

// describeError prints an error with its SQLSTATE and position.
func describeError(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	s := fmt.Sprintf("%s %s: %s", pgErr.Severity, pgErr.Code, pgErr.Message)
	if pgErr.Position > 0 {
		s += fmt.Sprintf(" (position %d)", pgErr.Position)
	}
	if pgErr.Detail != "" {
		s += "\n  detail: " + pgErr.Detail
	}
	return s
}

// applies reports whether a record runs on engine over protocol p.
func (r *record) applies(engine string, p protocol) bool {
	for _, c := range r.conds {
		if c.only != (c.name == engine || c.name == p.String()) {
			return false
		}
	}
	return true
}

// appliesTo reports whether a record runs on engine over some protocol.
func (r *record) appliesTo(engine string) bool {
	return r.applies(engine, extended) || r.applies(engine, simple)
}

// protocol is how a run sends SQL.
type protocol int

const (
	// extended is pgx's default: Parse/Describe of a named, cached
	// statement, then Bind/Execute, with binary results where the runner
	// can decode them.
	extended protocol = iota
	// simple is one Query message per record with text results, as psql
	// sends it (pgconn's Exec: no client-side rewriting of the SQL).
	simple
)

func (p protocol) String() string {
	if p == simple {
		return "simple"
	}
	return "extended"
}

// engine is a server a script runs against.
type engine interface {
	// Name is what skipif and onlyif match: engineSluice or enginePostgres.
	Name() string
	// Connect opens a new session.
	Connect(ctx context.Context) (*pgx.Conn, error)
	// Restart restarts the server on the same data. The runner has closed
	// every connection before it calls Restart. An error with a server
	// running after all (a failed clean shutdown) fails the restart record
	// but not the script.
	Restart(ctx context.Context) error
}

// streamEngine is an engine with streams and a processing-time clock the
// script moves (advance, wait).
type streamEngine interface {
	// Advance waits until no stream is in the middle of a batch, then
	// moves processing time forward by d, firing the triggers due.
	Advance(ctx context.Context, d time.Duration) error
	// WaitForBatch waits until the stream has committed batch id.
	WaitForBatch(ctx context.Context, stream string, id int64) error
	// WaitForStatus waits until the stream has the status (finished, ...).
	WaitForStatus(ctx context.Context, stream, status string) error
}

// failure is one record that did not do what the script expects.
type failure struct {
	file    string
	line    int
	sql     string
	summary string // one line
	detail  string // more lines, or ""
}

func (f failure) String() string {
	s := fmt.Sprintf("%s:%d: %s\n%s", f.file, f.line, f.summary, indent(f.sql, "    "))
	if f.detail != "" {
		s += "\n" + indent(f.detail, "  ")
	}
	return s
}

// runResult is what running a script produced.
type runResult struct {
	executed int // records run (conditions held), including failed ones
	skipped  int // records whose conditions did not hold
	failures []failure
	// aborted is why the run stopped early (connections lost, a failed
	// restart); "" if not.
	aborted string
	// updates maps record indexes to the expected lines -update writes.
	updates map[int][]string
}

// runOptions tunes runScript.
type runOptions struct {
	protocol protocol
	// recordTimeout bounds each record; a record that takes longer fails
	// the script (the connection is lost when pgx cancels).
	recordTimeout time.Duration
	// update, when non-nil, says which records' expected rows may be
	// rewritten from this run.
	update func(*record) bool
}

// runner runs one script against one engine.
type runner struct {
	s     *script
	eng   engine
	opts  runOptions
	conns map[string]*pgx.Conn
	cur   string
	res   runResult
	lost  int // connections lost so far
}

// maxLostConns is how many lost connections stop a script.
const maxLostConns = 3

// runScript runs every record of s that applies to eng, in order.
func runScript(ctx context.Context, s *script, eng engine, opts runOptions) runResult {
	if opts.recordTimeout == 0 {
		opts.recordTimeout = 30 * time.Second
	}
	r := &runner{s: s, eng: eng, opts: opts, conns: map[string]*pgx.Conn{}, cur: "default",
		res: runResult{updates: map[int][]string{}}}
	defer r.closeAll()
	for idx, rec := range s.records {
		if !rec.applies(eng.Name(), opts.protocol) {
			r.res.skipped++
			continue
		}
		if rec.kind == kindHalt {
			break
		}
		r.res.executed++
		if aborted := r.runRecord(ctx, idx, rec); aborted != "" {
			r.res.aborted = fmt.Sprintf("%s:%d: %s", s.name, rec.line, aborted)
			break
		}
	}
	return r.res
}

// closeAll closes every connection.
func (r *runner) closeAll() {
	for name, c := range r.conns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Close(ctx) // the session is over; an error closing it is no finding
		cancel()
		delete(r.conns, name)
	}
}

// fail records a failure: summary is one line, detail may add more.
func (r *runner) fail(rec *record, summary, detail string) {
	r.res.failures = append(r.res.failures, failure{
		file: r.s.name, line: rec.line, sql: rec.sql, detail: detail,
		summary: fmt.Sprintf("%s (%s protocol): %s", recordTitle(rec), r.opts.protocol, summary),
	})
}

func recordTitle(rec *record) string {
	switch rec.kind {
	case kindQuery:
		if rec.wantErr != nil {
			return "query error " + rec.wantErr.String()
		}
		return "query " + rec.types
	case kindStatement:
		switch {
		case rec.wantErr != nil:
			return "statement error " + rec.wantErr.String()
		case rec.wantCount >= 0:
			return fmt.Sprintf("statement count %d", rec.wantCount)
		}
		return "statement ok"
	case kindRestart:
		return "restart"
	case kindConnection:
		return "connection " + rec.connName
	case kindAdvance:
		return "advance " + rec.advance.String()
	case kindWait:
		if rec.waitStatus != "" {
			return fmt.Sprintf("wait %s %s", rec.waitStream, rec.waitStatus)
		}
		return fmt.Sprintf("wait %s %d", rec.waitStream, rec.waitBatch)
	}
	return "halt"
}

// conn returns the current connection, opening it if needed.
func (r *runner) conn(ctx context.Context) (*pgx.Conn, error) {
	if c := r.conns[r.cur]; c != nil {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.recordTimeout)
	defer cancel()
	c, err := r.eng.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect %q: %w", r.cur, err)
	}
	r.conns[r.cur] = c
	return c, nil
}

// runRecord runs one record. It returns a reason to abort the script, or "".
func (r *runner) runRecord(ctx context.Context, idx int, rec *record) string {
	switch rec.kind {
	case kindConnection:
		r.cur = rec.connName
		return ""
	case kindRestart:
		r.closeAll()
		rctx, cancel := context.WithTimeout(ctx, r.opts.recordTimeout)
		defer cancel()
		if err := r.eng.Restart(rctx); err != nil {
			// Go on: if no server came up, the next record cannot connect
			// and stops the script.
			r.fail(rec, "restart reported an error", err.Error())
		}
		return ""
	}

	if rec.kind == kindAdvance || rec.kind == kindWait {
		st, ok := r.eng.(streamEngine)
		if !ok {
			r.fail(rec, "this engine has no streams", "")
			return ""
		}
		rctx, cancel := context.WithTimeout(ctx, r.opts.recordTimeout)
		defer cancel()
		var err error
		switch {
		case rec.kind == kindAdvance:
			err = st.Advance(rctx, rec.advance)
		case rec.waitStatus != "":
			err = st.WaitForStatus(rctx, rec.waitStream, rec.waitStatus)
		default:
			err = st.WaitForBatch(rctx, rec.waitStream, rec.waitBatch)
		}
		if err != nil {
			r.fail(rec, recordTitle(rec)+" failed", err.Error())
		}
		return ""
	}

	conn, err := r.conn(ctx)
	if err != nil {
		r.fail(rec, "cannot connect", err.Error())
		return "cannot connect"
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.recordTimeout)
	defer cancel()
	res, err := execute(rctx, conn, rec.sql, r.opts.protocol)

	// A lost connection fails the record; later records run on a new
	// session, so one crash does not hide the rest of the script.
	if conn.IsClosed() {
		delete(r.conns, r.cur)
		r.lost++
		lost := "connection lost"
		if rctx.Err() != nil {
			lost = fmt.Sprintf("record took longer than %v; connection lost", r.opts.recordTimeout)
		}
		detail := ""
		if err != nil {
			detail = "got: " + describeError(err)
		}
		r.fail(rec, lost+"; later records run on a new session", detail)
		if r.lost >= maxLostConns {
			return fmt.Sprintf("%d connections lost", r.lost)
		}
		return ""
	}

	if rec.wantErr != nil {
		if err == nil {
			r.fail(rec, "succeeded, want an error", "")
		} else if msg := rec.wantErr.check(err); msg != "" {
			r.fail(rec, msg, "got: "+describeError(err))
		}
		return ""
	}
	if err != nil {
		r.fail(rec, "unexpected error", "got: "+describeError(err))
		return ""
	}

	switch rec.kind {
	case kindStatement:
		if rec.wantCount >= 0 && res.tag.RowsAffected() != rec.wantCount {
			r.fail(rec, fmt.Sprintf("command tag %q, want a count of %d", res.tag.String(), rec.wantCount), "")
		}
	case kindQuery:
		r.checkQuery(idx, rec, res)
	}
	return ""
}

// checkQuery compares a query's result with the record's expectation.
func (r *runner) checkQuery(idx int, rec *record, res *execResult) {
	if len(res.fields) != len(rec.types) {
		r.fail(rec, fmt.Sprintf("%d columns (%s), want %d", len(res.fields), typeLetters(res.fields), len(rec.types)), rowsDetail(rec, res))
		r.proposeUpdate(idx, rec, res)
		return
	}
	for i, f := range res.fields {
		if want := rune(rec.types[i]); !typeMatches(want, f.DataTypeOID) {
			r.fail(rec, fmt.Sprintf("column %d (%s) is %s (OID %d), want type %c", i+1, f.Name, oidName(f.DataTypeOID), f.DataTypeOID, want), rowsDetail(rec, res))
			r.proposeUpdate(idx, rec, res)
			return
		}
	}
	if got, want := resultLines(res.rows, rec.sort), wantLines(rec); !slices.Equal(got, want) {
		r.fail(rec, "wrong result", rowsDetail(rec, res))
		r.proposeUpdate(idx, rec, res)
	}
}

// wantLines returns a query's expected lines, sorted as its mode says.
func wantLines(rec *record) []string {
	want := slices.Clone(rec.expected)
	if rec.sort != noSort {
		slices.Sort(want)
	}
	return want
}

// rowsDetail prints the diff of a query's expected and actual rows.
func rowsDetail(rec *record, res *execResult) string {
	return "rows (- want, + got):\n" + indent(lineDiff(wantLines(rec), resultLines(res.rows, rec.sort)), "  ")
}

// proposeUpdate records the expected lines -update writes for a record.
func (r *runner) proposeUpdate(idx int, rec *record, res *execResult) {
	if r.opts.update == nil || !r.opts.update(rec) {
		return
	}
	r.res.updates[idx] = resultLines(res.rows, rec.sort)
}

// execResult is one statement's result, values already in text form.
type execResult struct {
	fields []pgconn.FieldDescription
	rows   [][]*string // nil is NULL
	tag    pgconn.CommandTag
}

// binaryOIDs are the types the extended run asks for in binary and decodes
// itself. Everything else (numeric, interval, unknown types) comes as text.
var binaryOIDs = pgx.QueryResultFormatsByOID{
	oidBool: pgx.BinaryFormatCode, oidInt2: pgx.BinaryFormatCode, oidInt4: pgx.BinaryFormatCode,
	oidInt8: pgx.BinaryFormatCode, oidFloat4: pgx.BinaryFormatCode, oidFloat8: pgx.BinaryFormatCode,
	oidText: pgx.BinaryFormatCode, oidVarchar: pgx.BinaryFormatCode, oidDate: pgx.BinaryFormatCode,
	oidTimestamp: pgx.BinaryFormatCode, oidTimestampTZ: pgx.BinaryFormatCode,
}

// execute runs sql over the given protocol and returns its result. The
// simple protocol may run several statements; the result is the last one's.
func execute(ctx context.Context, conn *pgx.Conn, sql string, p protocol) (*execResult, error) {
	if p == simple {
		// Not MultiResultReader.ReadAll: its results lack the columns of
		// a query that returns no rows.
		mrr := conn.PgConn().Exec(ctx, sql)
		res := &execResult{}
		var rowErr error
		for mrr.NextResult() {
			rr := mrr.ResultReader()
			res = &execResult{}
			for rr.NextRow() {
				vals, err := textRow(rr.FieldDescriptions(), rr.Values())
				if err != nil && rowErr == nil {
					rowErr = err
				}
				res.rows = append(res.rows, vals)
			}
			res.fields = slices.Clone(rr.FieldDescriptions())
			res.tag, _ = rr.Close() // its error is also mrr.Close's
		}
		if err := mrr.Close(); err != nil {
			return nil, err
		}
		if rowErr != nil {
			return nil, rowErr
		}
		return res, nil
	}

	rows, err := conn.Query(ctx, sql, binaryOIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := &execResult{fields: slices.Clone(rows.FieldDescriptions())}
	for rows.Next() {
		vals, err := textRow(rows.FieldDescriptions(), rows.RawValues())
		if err != nil {
			return nil, err
		}
		res.rows = append(res.rows, vals)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	res.tag = rows.CommandTag()
	return res, nil
}

// textRow turns a row of wire values into PostgreSQL text forms.
func textRow(fields []pgconn.FieldDescription, raw [][]byte) ([]*string, error) {
	if len(raw) != len(fields) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(raw), len(fields))
	}
	vals := make([]*string, len(raw))
	for i, b := range raw {
		if b == nil {
			continue
		}
		var s string
		if fields[i].Format == pgx.TextFormatCode {
			s = string(b)
		} else {
			var err error
			if s, err = binaryToText(fields[i].DataTypeOID, b); err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", i+1, fields[i].Name, err)
			}
		}
		vals[i] = &s
	}
	return vals, nil
}

// PostgreSQL type OIDs the runner knows.
const (
	oidBool        = 16
	oidNameType    = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
	oidChar        = 18
)

// typeMatches reports whether a column of type oid fits a type letter.
func typeMatches(letter rune, oid uint32) bool {
	return typeLetter(oid) == letter
}

// typeLetter returns the letter for a type OID, or '?' if none fits.
func typeLetter(oid uint32) rune {
	switch oid {
	case oidText, oidVarchar, oidBpchar, oidNameType, oidUnknown, oidChar:
		return 'T'
	case oidInt2, oidInt4, oidInt8:
		return 'I'
	case oidFloat4, oidFloat8:
		return 'R'
	case oidNumeric:
		return 'N'
	case oidBool:
		return 'B'
	case oidDate, oidTimestamp, oidTimestampTZ, oidTime:
		return 'D'
	case oidInterval:
		return 'V'
	}
	return '?'
}

func typeLetters(fields []pgconn.FieldDescription) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteRune(typeLetter(f.DataTypeOID))
	}
	return b.String()
}

func oidName(oid uint32) string {
	names := map[uint32]string{
		oidBool: "boolean", oidNameType: "name", oidInt8: "bigint", oidInt2: "smallint", oidInt4: "integer",
		oidText: "text", oidFloat4: "real", oidFloat8: "double precision", oidUnknown: "unknown",
		oidBpchar: "character", oidVarchar: "character varying", oidDate: "date", oidTime: "time",
		oidTimestamp: "timestamp", oidTimestampTZ: "timestamptz", oidInterval: "interval",
		oidNumeric: "numeric", oidChar: "\"char\"",
	}
	if n, ok := names[oid]; ok {
		return n
	}
	return "unknown OID"
}

// pgEpoch is PostgreSQL's epoch for binary dates and timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// binaryToText prints a binary wire value in PostgreSQL's text form.
// Time zones print as UTC: the runner's sessions run with TimeZone UTC.
func binaryToText(oid uint32, b []byte) (string, error) {
	wantLen := func(n int) error {
		if len(b) != n {
			return fmt.Errorf("binary %s is %d bytes, want %d", oidName(oid), len(b), n)
		}
		return nil
	}
	switch oid {
	case oidBool:
		if err := wantLen(1); err != nil {
			return "", err
		}
		switch b[0] {
		case 0:
			return "f", nil
		case 1:
			return "t", nil
		}
		return "", fmt.Errorf("binary boolean is %d, want 0 or 1", b[0])
	case oidInt2:
		if err := wantLen(2); err != nil {
			return "", err
		}
		return strconv.Itoa(int(int16(binary.BigEndian.Uint16(b)))), nil
	case oidInt4:
		if err := wantLen(4); err != nil {
			return "", err
		}
		return strconv.Itoa(int(int32(binary.BigEndian.Uint32(b)))), nil
	case oidInt8:
		if err := wantLen(8); err != nil {
			return "", err
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10), nil
	case oidFloat4:
		if err := wantLen(4); err != nil {
			return "", err
		}
		return formatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32), nil
	case oidFloat8:
		if err := wantLen(8); err != nil {
			return "", err
		}
		return formatFloat(math.Float64frombits(binary.BigEndian.Uint64(b)), 64), nil
	case oidText, oidVarchar:
		return string(b), nil
	case oidDate:
		if err := wantLen(4); err != nil {
			return "", err
		}
		days := int32(binary.BigEndian.Uint32(b))
		switch days {
		case math.MaxInt32:
			return "infinity", nil
		case math.MinInt32:
			return "-infinity", nil
		}
		return formatDate(pgEpoch.AddDate(0, 0, int(days))), nil
	case oidTimestamp, oidTimestampTZ:
		if err := wantLen(8); err != nil {
			return "", err
		}
		us := int64(binary.BigEndian.Uint64(b))
		switch us {
		case math.MaxInt64:
			return "infinity", nil
		case math.MinInt64:
			return "-infinity", nil
		}
		const usPerDay = 86_400_000_000
		days, rem := us/usPerDay, us%usPerDay
		if rem < 0 {
			days, rem = days-1, rem+usPerDay
		}
		t := pgEpoch.AddDate(0, 0, int(days)).Add(time.Duration(rem) * time.Microsecond)
		s := formatTimestamp(t)
		if oid == oidTimestampTZ {
			s += "+00"
		}
		return s, nil
	}
	return "", fmt.Errorf("no binary decoder for type OID %d", oid)
}

// formatDate prints a date as PostgreSQL does with DateStyle ISO.
func formatDate(t time.Time) string {
	y := t.Year()
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	s := fmt.Sprintf("%04d-%02d-%02d", y, t.Month(), t.Day())
	if bc {
		s += " BC"
	}
	return s
}

// formatTimestamp prints a timestamp as PostgreSQL does with DateStyle ISO:
// fractional seconds with trailing zeros removed.
func formatTimestamp(t time.Time) string {
	y := t.Year()
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
	if us := t.Nanosecond() / 1000; us != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
	}
	if bc {
		s += " BC"
	}
	return s
}

// formatFloat prints a float as PostgreSQL 15 does with extra_float_digits
// at its default of 1: the shortest decimal that reads back exactly, in
// fixed notation when the decimal exponent is in [-4, 15) for double
// precision and [-4, 6) for real, else in exponent notation (1e+15).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // -1.2345e+06
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	if exp < -4 || exp >= maxExp {
		return e
	}
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits))
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// formatValue prints one value the way scripts write it (see doc.go).
func formatValue(v *string) string {
	if v == nil {
		return "NULL"
	}
	s := *v
	if s == "" {
		return "(empty)"
	}
	var b strings.Builder
	if s == "NULL" || s == "(empty)" {
		b.WriteByte('\\')
	}
	lead := len(s) - len(strings.TrimLeft(s, " "))
	trail := len(s) - len(strings.TrimRight(s, " "))
	if lead == len(s) {
		trail = 0
	}
	b.WriteString(strings.Repeat(`\s`, lead))
	for _, c := range s[lead : len(s)-trail] {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '|':
			b.WriteString(`\|`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteString(strings.Repeat(`\s`, trail))
	return b.String()
}

// resultLines prints rows as the expected lines of a query record.
func resultLines(rows [][]*string, mode sortMode) []string {
	lines := []string{}
	for _, row := range rows {
		vals := make([]string, len(row))
		for i, v := range row {
			vals[i] = formatValue(v)
		}
		if mode == valueSort {
			lines = append(lines, vals...)
		} else {
			lines = append(lines, strings.Join(vals, " | "))
		}
	}
	if mode != noSort {
		slices.Sort(lines)
	}
	return lines
}

// lineDiff prints a line diff of want and got: "  " for lines in both, "- "
// for lines only wanted, "+ " for lines only got.
func lineDiff(want, got []string) string {
	// Longest common subsequence; results are small.
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			fmt.Fprintf(&b, "  %s\n", want[i])
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&b, "- %s\n", want[i])
			i++
		default:
			fmt.Fprintf(&b, "+ %s\n", got[j])
			j++
		}
	}
	if n == 0 && m == 0 {
		return "(no rows)\n"
	}
	if n == 0 {
		b.WriteString("(want no rows)\n")
	}
	if m == 0 {
		b.WriteString("(got no rows)\n")
	}
	return b.String()
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// rewrite returns src with the expected lines of query records replaced:
// updates maps record indexes, as parseScript numbers them, to new lines.
// It parses src again, so updates made by an earlier run (which may have
// moved lines) are kept.
func rewrite(name string, src []byte, updates map[int][]string) ([]byte, error) {
	s, err := parseScript(name, src)
	if err != nil {
		return nil, err
	}
	type span struct {
		from, to int
		lines    []string
	}
	var spans []span
	for idx, lines := range updates {
		if idx >= len(s.records) || s.records[idx].kind != kindQuery || s.records[idx].wantErr != nil {
			return nil, fmt.Errorf("%s: record %d is not a query with expected rows", name, idx)
		}
		rec := s.records[idx]
		spans = append(spans, span{rec.expFrom, rec.expTo, lines})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var out []string
	at := 0
	for _, sp := range spans {
		out = append(out, s.lines[at:sp.from]...)
		out = append(out, sp.lines...)
		at = sp.to
	}
	out = append(out, s.lines[at:]...)
	var buf bytes.Buffer
	for _, l := range out {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
