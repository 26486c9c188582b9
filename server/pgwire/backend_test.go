package pgwire_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// testBackend is a Backend that knows a handful of queries, enough to
// drive the protocol with real clients:
//
//	SELECT <items>          one row; an item is $n, 'text', a number, true,
//	                        false or NULL, optionally ::type, optionally AS name
//	SELECT types()          a row of every type, then a row of NULLs
//	SELECT series(n[, b])   bigint 1..n in batches of b (default 1000)
//	SELECT sleep(ms)        signals started, waits ms or until cancelled
//	SELECT wait()           signals started, waits for release or cancel
//	SELECT fail()           22012 with detail and hint
//	SELECT panic()          panics in Execute; panic_next() in Result.Next
//	PANIC                   panics in Prepare
//	BEGIN, COMMIT           move the transaction status
//	CREATE TABLE ..., INSERT ...   tags only
//	SUBSCRIBE name, COPY (SUBSCRIBE name) TO STDOUT
//	                        a COPY of the feed added as name (copy_test.go)
//
// Several statements are separated by ';'. Anything else is a 42601 at
// position 1. Records come from a checked allocator.
type testBackend struct {
	alloc *memory.CheckedAllocator

	started chan struct{} // one send per SELECT wait() that starts
	release chan struct{} // closed to let SELECT wait() finish

	feedsMu sync.Mutex
	feeds   map[string]*testFeed // by name, for SUBSCRIBE

	openSessions atomic.Int64
	openResults  atomic.Int64
}

func newTestBackend() *testBackend {
	return &testBackend{
		alloc:   memory.NewCheckedAllocator(memory.NewGoAllocator()),
		started: make(chan struct{}, 16),
		release: make(chan struct{}),
	}
}

var _ pgwire.Backend = (*testBackend)(nil)

// signalStarted tells a test waiting on started that a slow statement
// runs; with nobody waiting (and the buffer full) it tells no one.
func (b *testBackend) signalStarted() {
	select {
	case b.started <- struct{}{}:
	default:
	}
}

func (b *testBackend) Connect(ctx context.Context, params map[string]string) (pgwire.Session, error) {
	if params["user"] == "nobody" {
		return nil, sqlerr.New("28000", "role \"nobody\" does not exist")
	}
	b.openSessions.Add(1)
	return &testSession{b: b, tx: 'I'}, nil
}

type testSession struct {
	b      *testBackend
	tx     byte
	closed bool
}

var (
	_ pgwire.Session          = (*testSession)(nil)
	_ pgwire.TxStatusReporter = (*testSession)(nil)
)

func (s *testSession) TxStatus() byte { return s.tx }

func (s *testSession) Close() error {
	if !s.closed {
		s.closed = true
		s.b.openSessions.Add(-1)
	}
	return nil
}

func (s *testSession) Prepare(ctx context.Context, sql string, paramTypes []sqltypes.Type) ([]pgwire.Statement, error) {
	var stmts []pgwire.Statement
	for _, text := range splitTop(sql, ';') {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		st, err := s.prepareOne(text, paramTypes)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}

// testStmt is a prepared test statement: fixed fields, and a function
// that makes its result.
type testStmt struct {
	params []sqltypes.Type
	fields []pgwire.Field
	run    func(ctx context.Context, params []any) (pgwire.Result, error)
}

func (st *testStmt) ParamTypes() []sqltypes.Type { return st.params }
func (st *testStmt) Fields() []pgwire.Field      { return st.fields }
func (st *testStmt) Execute(ctx context.Context, params []any) (pgwire.Result, error) {
	return st.run(ctx, params)
}

func (s *testSession) prepareOne(text string, declared []sqltypes.Type) (*testStmt, error) {
	upper := strings.ToUpper(text)
	tagOnly := func(tag string, then func()) *testStmt {
		return &testStmt{run: func(context.Context, []any) (pgwire.Result, error) {
			if then != nil {
				then()
			}
			return s.b.result(tag, nil, nil), nil
		}}
	}
	switch {
	case upper == "PANIC":
		panic("test backend: panic in Prepare")
	case upper == "BEGIN":
		return tagOnly("BEGIN", func() { s.tx = 'T' }), nil
	case upper == "COMMIT":
		return tagOnly("COMMIT", func() { s.tx = 'I' }), nil
	case strings.HasPrefix(upper, "CREATE TABLE"):
		return tagOnly("CREATE TABLE", nil), nil
	case strings.HasPrefix(upper, "INSERT"):
		return tagOnly("INSERT 0 1", nil), nil
	case strings.HasPrefix(upper, "SUBSCRIBE "), strings.HasPrefix(upper, "COPY (SUBSCRIBE "):
		return s.prepareSubscribe(text)
	case !strings.HasPrefix(upper, "SELECT "):
		word, _, _ := strings.Cut(text, " ")
		return nil, &sqlerr.Error{Code: sqlerr.SyntaxError, Message: fmt.Sprintf("syntax error at or near \"%s\"", word), Position: 1}
	}
	body := strings.TrimSpace(text[len("SELECT "):])
	name, args, isCall := parseCall(body)
	if isCall {
		return s.prepareCall(name, args)
	}
	return s.prepareItems(body, declared)
}

// parseCall recognises "name(args)".
func parseCall(body string) (name string, args []string, ok bool) {
	open := strings.IndexByte(body, '(')
	if open <= 0 || !strings.HasSuffix(body, ")") {
		return "", nil, false
	}
	name = strings.ToLower(body[:open])
	for _, r := range name {
		if !unicode.IsLetter(r) && r != '_' {
			return "", nil, false
		}
	}
	inner := strings.TrimSpace(body[open+1 : len(body)-1])
	if inner != "" {
		for _, a := range strings.Split(inner, ",") {
			args = append(args, strings.TrimSpace(a))
		}
	}
	return name, args, true
}

func (s *testSession) prepareCall(name string, args []string) (*testStmt, error) {
	b := s.b
	intArg := func(i, def int) int {
		if i < len(args) {
			if n, err := strconv.Atoi(args[i]); err == nil {
				return n
			}
		}
		return def
	}
	one := []pgwire.Field{{Name: name, Type: sqltypes.Int32}}
	oneRow := func() arrow.Record {
		bld := array.NewInt32Builder(b.alloc)
		defer bld.Release()
		bld.Append(1)
		return b.record(one, bld.NewArray())
	}
	switch name {
	case "types":
		return &testStmt{fields: allTypesFields, run: func(context.Context, []any) (pgwire.Result, error) {
			return b.result("SELECT 2", allTypesFields, []arrow.Record{b.rowRecord(allTypesFields, allTypesRow), b.rowRecord(allTypesFields, make([]any, len(allTypesFields)))}), nil
		}}, nil
	case "series":
		n, batch := intArg(0, 10), intArg(1, 1000)
		fields := []pgwire.Field{{Name: "n", Type: sqltypes.Int64}}
		return &testStmt{fields: fields, run: func(context.Context, []any) (pgwire.Result, error) {
			next := 1
			return b.lazyResult(fmt.Sprintf("SELECT %d", n), func() arrow.Record {
				if next > n {
					return nil
				}
				bld := array.NewInt64Builder(b.alloc)
				defer bld.Release()
				for ; next <= n && bld.Len() < batch; next++ {
					bld.Append(int64(next))
				}
				return b.record(fields, bld.NewArray())
			}), nil
		}}, nil
	case "sleep":
		ms := intArg(0, 1000)
		return &testStmt{fields: one, run: func(ctx context.Context, _ []any) (pgwire.Result, error) {
			b.signalStarted()
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err() // no SQLSTATE: the server must map it
			}
			return b.result("SELECT 1", one, []arrow.Record{oneRow()}), nil
		}}, nil
	case "wait":
		return &testStmt{fields: one, run: func(ctx context.Context, _ []any) (pgwire.Result, error) {
			b.signalStarted()
			select {
			case <-b.release:
			case <-ctx.Done():
				return nil, fmt.Errorf("waiting: %w", ctx.Err())
			}
			return b.result("SELECT 1", one, []arrow.Record{oneRow()}), nil
		}}, nil
	case "fail":
		return &testStmt{fields: one, run: func(context.Context, []any) (pgwire.Result, error) {
			return nil, &sqlerr.Error{Code: sqlerr.DivisionByZero, Message: "division by zero", Detail: "the detail", Hint: "the hint"}
		}}, nil
	case "panic":
		return &testStmt{fields: one, run: func(context.Context, []any) (pgwire.Result, error) {
			panic("test backend: panic in Execute")
		}}, nil
	case "panic_next":
		return &testStmt{fields: one, run: func(context.Context, []any) (pgwire.Result, error) {
			return b.lazyResult("SELECT 1", func() arrow.Record { panic("test backend: panic in Next") }), nil
		}}, nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", name)
}

var allTypesFields = []pgwire.Field{
	{Name: "b", Type: sqltypes.Bool},
	{Name: "i2", Type: sqltypes.Int16},
	{Name: "i4", Type: sqltypes.Int32},
	{Name: "i8", Type: sqltypes.Int64},
	{Name: "f4", Type: sqltypes.Float32},
	{Name: "f8", Type: sqltypes.Float64},
	{Name: "t", Type: sqltypes.Text},
	{Name: "vc", Type: sqltypes.Varchar(10)},
	{Name: "ts", Type: sqltypes.Timestamp},
	{Name: "d", Type: sqltypes.Date},
	{Name: "iv", Type: sqltypes.IntervalT},
}

var allTypesRow = []any{
	true, int64(-32768), int64(2147483647), int64(math.MinInt64),
	float64(float32(1.5)), 1e100, "héllo, 'world'", "abc",
	time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC),
	time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
	sqltypes.Interval{Months: 14, Days: 3, Micros: 4*3600e6 + 5*60e6 + 6.5e6},
}

// prepareItems prepares "SELECT item, item, ...".
func (s *testSession) prepareItems(body string, declared []sqltypes.Type) (*testStmt, error) {
	type item struct {
		param int // 1-based; 0 for a literal
		lit   any // literal value, after the cast
		cast  *sqltypes.Type
	}
	var items []item
	var fields []pgwire.Field
	params := append([]sqltypes.Type(nil), declared...)
	setParam := func(n int, t sqltypes.Type) {
		for len(params) < n {
			params = append(params, sqltypes.Unknown)
		}
		if params[n-1].Kind == sqltypes.KindUnknown {
			params[n-1] = t
		}
	}
	for _, text := range splitTop(body, ',') {
		text = strings.TrimSpace(text)
		name := "?column?"
		if j := strings.LastIndex(strings.ToUpper(text), " AS "); j >= 0 {
			name = strings.TrimSpace(text[j+4:])
			text = strings.TrimSpace(text[:j])
		}
		var it item
		term := text
		if j := castAt(text); j >= 0 {
			t, ok := sqltypes.ParseName(strings.TrimSpace(text[j+2:]))
			if !ok {
				return nil, sqlerr.New(sqlerr.UndefinedObject, "type \"%s\" does not exist", strings.TrimSpace(text[j+2:]))
			}
			it.cast = &t
			term = strings.TrimSpace(text[:j])
		}
		typ := sqltypes.Text
		switch {
		case strings.HasPrefix(term, "$"):
			n, err := strconv.Atoi(term[1:])
			if err != nil || n < 1 {
				return nil, sqlerr.New(sqlerr.SyntaxError, "bad parameter %s", term)
			}
			it.param = n
			if it.cast != nil {
				setParam(n, *it.cast)
			} else {
				setParam(n, sqltypes.Text)
			}
		case strings.HasPrefix(term, "'") && strings.HasSuffix(term, "'") && len(term) >= 2:
			it.lit = strings.ReplaceAll(term[1:len(term)-1], "''", "'")
		case strings.EqualFold(term, "true"), strings.EqualFold(term, "false"):
			it.lit, typ = strings.EqualFold(term, "true"), sqltypes.Bool
		case strings.EqualFold(term, "null"):
		default:
			if n, err := strconv.ParseInt(term, 10, 64); err == nil {
				it.lit, typ = n, sqltypes.Int64
				if n == int64(int32(n)) {
					typ = sqltypes.Int32
				}
			} else if f, err := strconv.ParseFloat(term, 64); err == nil {
				it.lit, typ = f, sqltypes.Float64
			} else {
				return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist", term)
			}
		}
		if it.cast != nil {
			if it.lit != nil {
				v, err := convert(typ, *it.cast, it.lit)
				if err != nil {
					return nil, err
				}
				it.lit = v
			}
			typ = *it.cast
		}
		items = append(items, it)
		fields = append(fields, pgwire.Field{Name: name, Type: typ})
	}
	for i := range params {
		if params[i].Kind == sqltypes.KindUnknown {
			params[i] = sqltypes.Text
		}
	}
	for i, it := range items {
		if it.param > 0 && it.cast == nil {
			fields[i].Type = params[it.param-1]
		}
	}
	b := s.b
	return &testStmt{params: params, fields: fields, run: func(ctx context.Context, args []any) (pgwire.Result, error) {
		row := make([]any, len(items))
		for i, it := range items {
			if it.param == 0 {
				row[i] = it.lit
				continue
			}
			v := args[it.param-1]
			if v != nil {
				var err error
				if v, err = convert(params[it.param-1], fields[i].Type, v); err != nil {
					return nil, err
				}
			}
			row[i] = v
		}
		return b.result("SELECT 1", fields, []arrow.Record{b.rowRecord(fields, row)}), nil
	}}, nil
}

// convert casts v from type from to type to, through text.
func convert(from, to sqltypes.Type, v any) (any, error) {
	if from == to {
		return v, nil
	}
	s, ok := v.(string)
	if !ok {
		s = sqltypes.FormatText(from, v)
	}
	return sqltypes.ParseText(to, s)
}

// castAt returns where the last "::" outside quotes is in s, or -1.
func castAt(s string) int {
	at, quoted := -1, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			quoted = !quoted
		case !quoted && strings.HasPrefix(s[i:], "::"):
			at = i
			i++
		}
	}
	return at
}

// splitTop splits s at sep outside quotes and parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// rowRecord builds a one-row record of Go values (nil is NULL).
func (b *testBackend) rowRecord(fields []pgwire.Field, row []any) arrow.Record {
	cols := make([]arrow.Array, len(fields))
	for i, f := range fields {
		bld := array.NewBuilder(b.alloc, f.Type.Arrow())
		appendValue(bld, row[i])
		cols[i] = bld.NewArray()
		bld.Release()
	}
	return b.record(fields, cols...)
}

func appendValue(bld array.Builder, v any) {
	if v == nil {
		bld.AppendNull()
		return
	}
	switch bb := bld.(type) {
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Int16Builder:
		bb.Append(int16(v.(int64)))
	case *array.Int32Builder:
		bb.Append(int32(v.(int64)))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Float32Builder:
		bb.Append(float32(v.(float64)))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.Date32Builder:
		bb.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.MonthDayNanoIntervalBuilder:
		iv := v.(sqltypes.Interval)
		bb.Append(arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000})
	default:
		panic(fmt.Sprintf("no builder for %T", bld))
	}
}

// record assembles columns (released here) into a record.
func (b *testBackend) record(fields []pgwire.Field, cols ...arrow.Array) arrow.Record {
	af := make([]arrow.Field, len(fields))
	for i, f := range fields {
		af[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: true}
	}
	n := int64(0)
	if len(cols) > 0 {
		n = int64(cols[0].Len())
	}
	rec := array.NewRecord(arrow.NewSchema(af, nil), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// result returns a Result over fixed records (owned by the result).
func (b *testBackend) result(tag string, fields []pgwire.Field, recs []arrow.Record) pgwire.Result {
	i := 0
	return b.lazyResult(tag, func() arrow.Record {
		if i == len(recs) {
			return nil
		}
		i++
		r := recs[i-1]
		recs[i-1] = nil
		return r
	}, recs...)
}

// lazyResult returns a Result whose batches come from next (nil at the
// end); pending are records next will hand out, released on early Close.
func (b *testBackend) lazyResult(tag string, next func() arrow.Record, pending ...arrow.Record) pgwire.Result {
	b.openResults.Add(1)
	return &testResult{b: b, tag: tag, next: next, pending: pending}
}

type testResult struct {
	b       *testBackend
	tag     string
	next    func() arrow.Record
	pending []arrow.Record
	cur     arrow.Record
	closed  bool
	mu      sync.Mutex // Close may race with nothing, but the race detector checks
}

var _ pgwire.Result = (*testResult)(nil)

func (r *testResult) Next(ctx context.Context) (arrow.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("next on a closed result")
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.cur = r.next()
	return r.cur, nil
}

func (r *testResult) Tag() string { return r.tag }

func (r *testResult) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for _, p := range r.pending {
		if p != nil {
			p.Release()
		}
	}
	r.b.openResults.Add(-1)
	return nil
}
