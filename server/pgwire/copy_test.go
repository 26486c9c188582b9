package pgwire_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// testFeed is a live feed that SUBSCRIBE copies to the client. The test
// sends it batches of rows, or an error, and ends it; the result's Next
// waits for the next of these or for its ctx to end.
type testFeed struct {
	b       *testBackend
	fields  []pgwire.Field
	items   chan feedItem // unbuffered: a send returns once Next has taken it
	sent    int           // items taken by Next; the test's goroutine's
	waiting chan int      // each Next's number (1, 2, ...) as it begins to wait
	stopped chan error    // the ctx error of a Next that its ctx ended
}

type feedItem struct {
	rows  [][]any
	err   error
	panic bool
}

// addFeed adds a feed that SUBSCRIBE name copies, once.
func (b *testBackend) addFeed(name string, fields []pgwire.Field) *testFeed {
	f := &testFeed{b: b, fields: fields, items: make(chan feedItem), waiting: make(chan int, 64), stopped: make(chan error, 1)}
	b.feedsMu.Lock()
	defer b.feedsMu.Unlock()
	if b.feeds == nil {
		b.feeds = make(map[string]*testFeed)
	}
	b.feeds[name] = f
	return f
}

// send hands a batch of rows (Go values as in allTypesRow; nil is NULL) to
// the feed's Next.
func (f *testFeed) send(t *testing.T, rows ...[]any) {
	t.Helper()
	f.put(t, feedItem{rows: rows})
}

// fail makes the feed's Next return err.
func (f *testFeed) fail(t *testing.T, err error) {
	t.Helper()
	f.put(t, feedItem{err: err})
}

func (f *testFeed) put(t *testing.T, it feedItem) {
	t.Helper()
	select {
	case f.items <- it:
		f.sent++
	case <-time.After(10 * time.Second):
		t.Fatal("the feed's Next was not called")
	}
}

// waitBlocked waits for a Next after the last item to wait for the next:
// from then on, ending its ctx is what ends it.
func (f *testFeed) waitBlocked(t *testing.T) {
	t.Helper()
	for {
		select {
		case n := <-f.waiting:
			if n > f.sent {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the feed's Next was not called")
		}
	}
}

// end ends the feed: Next returns nil.
func (f *testFeed) end() { close(f.items) }

// waitStopped waits for a Next that its ctx ended and returns its error.
func (f *testFeed) waitStopped(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.stopped:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the feed's Next did not end with its ctx")
		return nil
	}
}

// prepareSubscribe prepares "SUBSCRIBE name" or "COPY (SUBSCRIBE name) TO
// STDOUT" over the feed added as name.
func (s *testSession) prepareSubscribe(text string) (*testStmt, error) {
	sql := strings.TrimSpace(text)
	if upper := strings.ToUpper(sql); strings.HasPrefix(upper, "COPY (") {
		if !strings.HasSuffix(upper, ") TO STDOUT") {
			return nil, sqlerr.New(sqlerr.SyntaxError, "COPY must be (SUBSCRIBE name) TO STDOUT")
		}
		sql = strings.TrimSpace(sql[len("COPY (") : len(sql)-len(") TO STDOUT")])
	}
	if !strings.HasPrefix(strings.ToUpper(sql), "SUBSCRIBE ") {
		return nil, sqlerr.New(sqlerr.SyntaxError, "COPY must be (SUBSCRIBE name) TO STDOUT")
	}
	name := strings.ToLower(strings.TrimSpace(sql[len("SUBSCRIBE "):]))
	b := s.b
	b.feedsMu.Lock()
	f := b.feeds[name]
	b.feedsMu.Unlock()
	if f == nil {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
	}
	return &testStmt{run: func(context.Context, []any) (pgwire.Result, error) {
		b.openResults.Add(1)
		return &feedResult{feed: f}, nil
	}}, nil
}

// feedResult is the CopyOutResult of a SUBSCRIBE.
type feedResult struct {
	feed   *testFeed
	calls  int
	rows   int
	cur    arrow.Record
	closed bool
}

var _ pgwire.CopyOutResult = (*feedResult)(nil)

// CopyFields implements pgwire.CopyOutResult.
func (r *feedResult) CopyFields() []pgwire.Field { return r.feed.fields }

// Next implements pgwire.Result.
func (r *feedResult) Next(ctx context.Context) (arrow.Record, error) {
	if r.closed {
		return nil, errors.New("next on a closed result")
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.calls++
	select {
	case r.feed.waiting <- r.calls:
	default:
	}
	select {
	case it, ok := <-r.feed.items:
		if !ok {
			return nil, nil
		}
		if it.err != nil {
			return nil, it.err
		}
		if it.panic {
			panic("test backend: panic in a feed's Next")
		}
		r.rows += len(it.rows)
		r.cur = r.feed.b.rowsRecord(r.feed.fields, it.rows)
		return r.cur, nil
	case <-ctx.Done():
		select {
		case r.feed.stopped <- ctx.Err():
		default:
		}
		return nil, ctx.Err() // no SQLSTATE: the server must map it
	}
}

// Tag implements pgwire.Result.
func (r *feedResult) Tag() string { return fmt.Sprintf("COPY %d", r.rows) }

// Close implements pgwire.Result.
func (r *feedResult) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.feed.b.openResults.Add(-1)
	return nil
}

// rowsRecord builds a record of rows of Go values (nil is NULL).
func (b *testBackend) rowsRecord(fields []pgwire.Field, rows [][]any) arrow.Record {
	cols := make([]arrow.Array, len(fields))
	for i, f := range fields {
		bld := array.NewBuilder(b.alloc, f.Type.Arrow())
		for _, row := range rows {
			appendValue(bld, row[i])
		}
		cols[i] = bld.NewArray()
		bld.Release()
	}
	if len(cols) == 0 {
		return array.NewRecord(arrow.NewSchema(nil, nil), nil, int64(len(rows)))
	}
	return b.record(fields, cols...)
}

// next reads one message, summarised.
func (c *rawClient) next() string {
	c.t.Helper()
	msg, err := c.fe.Receive()
	if err != nil {
		c.t.Fatal(err)
	}
	return summary(msg)
}

// expect reads messages and fails unless they are want, summarised.
func (c *rawClient) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		if got := c.next(); got != w {
			c.t.Fatalf("got  %s\nwant %s", got, w)
		}
	}
}

// copyData is the summary of a CopyData message holding line.
func copyData(line string) string { return fmt.Sprintf("CopyData %q", line) }

// waitConnsGone waits for every goroutine of a server connection, COPY
// watchers included, to end.
func waitConnsGone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "pgwire.(*conn).") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection goroutines still run:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// chanWriter passes each Write on, as a string, to the channel; pgx's
// CopyTo writes each CopyData message with one Write.
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// next returns the next Write.
func (w chanWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-w:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no CopyData arrived")
		return ""
	}
}

// twoColumns is the feed most tests use.
var twoColumns = []pgwire.Field{{Name: "n", Type: sqltypes.Int64}, {Name: "s", Type: sqltypes.Text}}

func TestPsqlPrintsASubscriptionLive(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	for _, sql := range []string{"SUBSCRIBE feed", "COPY (SUBSCRIBE feed) TO STDOUT"} {
		t.Run(sql, func(t *testing.T) {
			ts := startServer(t, pgwire.Config{})
			feed := ts.backend.addFeed("feed", twoColumns)
			// psql's stdout is a terminal, as for someone watching the
			// feed: psql's stdio writes each line as it ends. (On a pipe
			// it would hold the rows in its buffer until it exits.)
			pt, tty, err := openPTY()
			if err != nil {
				t.Skipf("no pseudo-terminal: %v", err)
			}
			defer pt.Close()
			cmd := exec.Command(psql, "-X", "-h", ts.host(), "-p", ts.port(), "-U", "u", "-d", "d", "-c", sql)
			cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGAPPNAME=psql-test")
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = tty, &stderr
			cmd.WaitDelay = 5 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close()
			exited := false
			defer func() {
				if !exited {
					cmd.Process.Kill()
					cmd.Wait()
				}
			}()
			lines := make(chan string, 16)
			go func() {
				defer close(lines)
				r := bufio.NewReader(pt)
				for {
					line, err := r.ReadString('\n')
					if line != "" {
						lines <- line
					}
					if err != nil {
						return
					}
				}
			}()
			nextLine := func() string {
				t.Helper()
				select {
				case line := <-lines:
					return line
				case <-time.After(10 * time.Second):
					t.Fatalf("psql printed nothing; stderr: %s", stderr.String())
					return ""
				}
			}

			// The feed goes on only once psql has printed its rows.
			feed.send(t, []any{int64(1), "one"}, []any{int64(2), "tab\there"})
			for _, want := range []string{"1\tone\n", "2\ttab\\there\n"} {
				if got := nextLine(); got != want {
					t.Fatalf("psql printed %q, want %q", got, want)
				}
			}
			feed.send(t, []any{int64(3), nil})
			if got, want := nextLine(), "3\t\\N\n"; got != want {
				t.Fatalf("psql printed %q, want %q", got, want)
			}
			feed.end()
			err = cmd.Wait()
			exited = true
			if err != nil {
				t.Fatalf("psql: %v; stderr: %s", err, stderr.String())
			}
			var rest []string
			for line := range lines {
				rest = append(rest, line)
			}
			if len(rest) > 0 || stderr.Len() > 0 {
				t.Errorf("then psql printed %q, stderr %q; want nothing", rest, stderr.String())
			}
		})
	}
}

// The lines COPY's text format gives to three rows of every type and a
// text column needing escapes: allTypesRow, all NULLs, and NULLs but for
// empty strings in the text columns.
var (
	copyAllTypesFields = append(append([]pgwire.Field(nil), allTypesFields...), pgwire.Field{Name: "esc", Type: sqltypes.Text})
	copyEscapes        = "tab\there nl\nhere cr\rhere bs\\here \\N bell\a ff\f vt\v bsp\b é"
	copyRows           = [][]any{
		append(append([]any(nil), allTypesRow...), copyEscapes),
		make([]any, len(copyAllTypesFields)),
		{nil, nil, nil, nil, nil, nil, "", "", nil, nil, nil, ""},
	}
	copyLines = []string{
		"t\t-32768\t2147483647\t-9223372036854775808\t1.5\t1e+100\théllo, 'world'\tabc\t2020-01-02 03:04:05.123456\t1999-12-31\t1 year 2 mons 3 days 04:05:06.5\t" +
			`tab\there nl\nhere cr\rhere bs\\here \\N bell` + "\a" + ` ff\f vt\v bsp\b é` + "\n",
		strings.Repeat(`\N`+"\t", 11) + `\N` + "\n",
		strings.Repeat(`\N`+"\t", 6) + "\t\t" + strings.Repeat(`\N`+"\t", 3) + "\n",
	}
)

func TestPgxCopyToReceivesExactTextLinesAsTheyCome(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", copyAllTypesFields)
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	type result struct {
		tag pgconn.CommandTag
		err error
	}
	done := make(chan result, 1)
	writes := make(chanWriter, 16)
	go func() {
		tag, err := conn.PgConn().CopyTo(ctx, writes, "SUBSCRIBE feed")
		done <- result{tag, err}
	}()

	feed.send(t, copyRows[0])
	if got := writes.next(t); got != copyLines[0] {
		t.Errorf("first line\ngot  %q\nwant %q", got, copyLines[0])
	}
	feed.send(t) // an empty batch
	feed.send(t, copyRows[1:]...)
	for i, want := range copyLines[1:] {
		if got := writes.next(t); got != want {
			t.Errorf("line %d\ngot  %q\nwant %q", i+2, got, want)
		}
	}
	feed.end()
	res := <-done
	if res.err != nil || res.tag.String() != "COPY 3" {
		t.Fatalf("CopyTo: %q, %v; want COPY 3", res.tag, res.err)
	}
	close(writes)
	for extra := range writes {
		t.Errorf("extra write %q", extra)
	}
	var n int32
	if err := conn.QueryRow(ctx, "SELECT 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("query after the COPY: %d, %v", n, err)
	}
}

func TestCancellingASubscriptionGives57014AndTheConnectionGoesOn(t *testing.T) {
	t.Run("pgx cancels its context", func(t *testing.T) {
		ts := startServer(t, pgwire.Config{})
		feed := ts.backend.addFeed("feed", twoColumns)
		ctx := testContext(t)
		conn, err := pgx.ConnectConfig(ctx, cancelConfig(t, ts.connString()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		qctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		writes := make(chanWriter, 16)
		go func() {
			_, err := conn.PgConn().CopyTo(qctx, writes, "COPY (SUBSCRIBE feed) TO STDOUT")
			done <- err
		}()
		feed.send(t, []any{int64(1), "one"})
		if got := writes.next(t); got != "1\tone\n" {
			t.Fatalf("got %q", got)
		}
		feed.waitBlocked(t)
		cancel()
		if err := feed.waitStopped(t); !errors.Is(err, context.Canceled) {
			t.Errorf("Next ended with %v, want context.Canceled", err)
		}
		err = <-done
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != sqlerr.QueryCanceled || pe.Message != "canceling statement due to user request" {
			t.Fatalf("CopyTo: %v, want 57014", err)
		}
		var n int32
		if err := conn.QueryRow(ctx, "SELECT 5").Scan(&n); err != nil || n != 5 {
			t.Fatalf("after the cancel: %d, %v", n, err)
		}
	})
	t.Run("a CancelRequest", func(t *testing.T) {
		ts := startServer(t, pgwire.Config{})
		feed := ts.backend.addFeed("feed", twoColumns)
		c := dialRaw(t, ts.addr)
		pid, secret := c.startup()
		c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
		c.expect("CopyOutResponse 0 [0 0]")
		feed.send(t, []any{int64(1), "one"})
		c.expect(copyData("1\tone\n"))
		feed.waitBlocked(t)
		cc := dialRaw(t, ts.addr)
		cc.send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret})
		if got := cc.untilClosed(); got != "" {
			t.Errorf("cancel connection got %s", got)
		}
		if got := c.untilReady(); got != "ERROR 57014; Ready I" {
			t.Errorf("got %s, want ERROR 57014; Ready I", got)
		}
		if err := feed.waitStopped(t); !errors.Is(err, context.Canceled) {
			t.Errorf("Next ended with %v, want context.Canceled", err)
		}
		c.send(&pgproto3.Query{String: "SELECT 1"})
		if got := c.untilReady(); got != "RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I" {
			t.Errorf("after the cancel: %s", got)
		}
	})
}

func TestAClientLeavingEndsItsSubscription(t *testing.T) {
	tests := []struct {
		name  string
		leave func(c *rawClient)
	}{
		{"it closes its socket", func(c *rawClient) {
			c.nc.Close()
		}},
		{"it sends Terminate and keeps its socket open", func(c *rawClient) {
			c.send(&pgproto3.Terminate{})
			if got := c.untilClosed(); got != "" {
				c.t.Errorf("after Terminate: %s, want a silent close", got)
			}
		}},
		{"it sends Terminate in the middle of other messages", func(c *rawClient) {
			c.send(&pgproto3.Sync{}, &pgproto3.Flush{}, &pgproto3.Terminate{})
			if got := c.untilClosed(); got != "" {
				c.t.Errorf("after Terminate: %s, want a silent close", got)
			}
		}},
		{"it breaks the protocol", func(c *rawClient) {
			if _, err := c.nc.Write([]byte{'z', 0, 0, 0, 4}); err != nil {
				c.t.Fatal(err)
			}
			if got := c.untilClosed(); got != "FATAL 08P01" {
				c.t.Errorf("got %q, want FATAL 08P01 then close", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, pgwire.Config{})
			feed := ts.backend.addFeed("feed", twoColumns)
			c := dialRaw(t, ts.addr)
			c.startup()
			c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
			c.expect("CopyOutResponse 0 [0 0]")
			feed.send(t, []any{int64(1), "one"})
			c.expect(copyData("1\tone\n"))
			feed.waitBlocked(t)
			tc.leave(c)
			if err := feed.waitStopped(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Next ended with %v, want context.Canceled", err)
			}
			waitConnsGone(t)
			if n := ts.backend.openResults.Load(); n != 0 {
				t.Errorf("%d results open after the client left", n)
			}
		})
	}
}

func TestSubscribeOverTheExtendedProtocol(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(
		&pgproto3.Parse{Name: "sub", Query: "SUBSCRIBE feed"},
		&pgproto3.Describe{ObjectType: 'S', Name: "sub"},
		&pgproto3.Bind{PreparedStatement: "sub", ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 1}, // no limit to a COPY
		&pgproto3.Sync{},
	)
	c.expect("ParseComplete", "ParameterDescription []", "NoData", "BindComplete", "NoData", "CopyOutResponse 0 [0 0]")
	feed.send(t, []any{int64(1), "one"}, []any{int64(2), nil})
	c.expect(copyData("1\tone\n"), copyData("2\t\\N\n"))
	feed.send(t, []any{int64(3), "back\\slash"})
	c.expect(copyData("3\tback\\\\slash\n"))
	feed.end()
	if got := c.untilReady(); got != "CopyDone; Complete COPY 3; Ready I" {
		t.Errorf("got %s, want CopyDone; Complete COPY 3; Ready I", got)
	}
	c.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if got := c.untilReady(); got != "ParseComplete; BindComplete; Row 31; Complete SELECT 1; Ready I" {
		t.Errorf("after the COPY: %s", got)
	}
}

func TestASubscriptionAmongOtherStatementsOfASimpleQuery(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "INSERT INTO t VALUES (1); SUBSCRIBE feed; SELECT 1"})
	c.expect("Complete INSERT 0 1", "CopyOutResponse 0 [0 0]")
	feed.send(t, []any{int64(1), "one"})
	feed.end()
	want := "CopyData \"1\\tone\\n\"; CopyDone; Complete COPY 1; RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I"
	if got := c.untilReady(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestMessagesSentDuringASubscriptionAreServedAfterIt(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
	c.expect("CopyOutResponse 0 [0 0]")
	c.send(&pgproto3.Query{String: "SELECT 1"}, &pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	feed.send(t, []any{int64(1), "one"})
	c.expect(copyData("1\tone\n"))
	feed.end()
	want := []string{
		"CopyDone; Complete COPY 1; Ready I",
		"RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I",
		"ParseComplete; BindComplete; Row 32; Complete SELECT 1; Ready I",
	}
	for _, w := range want {
		if got := c.untilReady(); got != w {
			t.Errorf("got  %s\nwant %s", got, w)
		}
	}
}

func TestAFailingFeedEndsTheCopyWithItsError(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
	c.expect("CopyOutResponse 0 [0 0]")
	feed.send(t, []any{int64(1), "one"})
	c.expect(copyData("1\tone\n"))
	feed.fail(t, sqlerr.New(sqlerr.DivisionByZero, "division by zero"))
	if got := c.untilReady(); got != "ERROR 22012; Ready I" {
		t.Errorf("got %s, want ERROR 22012; Ready I", got)
	}
	if n := ts.backend.openResults.Load(); n != 0 {
		t.Errorf("%d results open after the failed COPY", n)
	}
}

func TestAPanicInTheFeedIsAnInternalErrorAndTheConnectionGoesOn(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
	c.expect("CopyOutResponse 0 [0 0]")
	feed.put(t, feedItem{panic: true})
	if got := c.untilReady(); got != "ERROR XX000; Ready I" {
		t.Errorf("got %s, want ERROR XX000; Ready I", got)
	}
	// The COPY's watcher is gone: the connection reads its messages.
	c.send(&pgproto3.Query{String: "SELECT 1"})
	if got := c.untilReady(); got != "RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I" {
		t.Errorf("after the panic: %s", got)
	}
}

func TestAMessageHalfSentWhenACopyEndsIsReadWholeAfterIt(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	query, err := (&pgproto3.Query{String: "SELECT 1"}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cut in the header, and in the body.
	for _, cut := range []int{3, 8} {
		t.Run(fmt.Sprintf("cut after %d bytes", cut), func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			c.startup()
			c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
			c.expect("CopyOutResponse 0 [0 0]")
			if _, err := c.nc.Write(query[:cut]); err != nil {
				t.Fatal(err)
			}
			feed.send(t, []any{int64(1), "one"})
			c.expect(copyData("1\tone\n"))
			if _, err := c.nc.Write(query[cut:]); err != nil {
				t.Fatal(err)
			}
			feed.put(t, feedItem{err: sqlerr.New(sqlerr.DivisionByZero, "division by zero")})
			if got := c.untilReady(); got != "ERROR 22012; Ready I" {
				t.Errorf("got %s", got)
			}
			if got := c.untilReady(); got != "RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I" {
				t.Errorf("the query sent in halves: %s", got)
			}
		})
	}
}

func TestSubscribeToAnUnknownFeedIsAnErrorBeforeAnyCopy(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SUBSCRIBE nothing"})
	if got := c.untilReady(); got != "ERROR 42P01; Ready I" {
		t.Errorf("got %s, want ERROR 42P01; Ready I", got)
	}
}

func TestShutdownEndsASubscriptionWith57P01(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	feed := ts.backend.addFeed("feed", twoColumns)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SUBSCRIBE feed"})
	c.expect("CopyOutResponse 0 [0 0]")
	feed.send(t, []any{int64(1), "one"})
	c.expect(copyData("1\tone\n"))
	feed.waitBlocked(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- ts.srv.Shutdown(ctx) }()
	if got := c.untilClosed(); got != "FATAL 57P01" {
		t.Errorf("got %q, want FATAL 57P01 then close", got)
	}
	if err := feed.waitStopped(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Next ended with %v, want context.Canceled", err)
	}
	// Shutdown's context is still far from its end: the drain ended the
	// feed, not the force-close.
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := ts.servedResult(t); !errors.Is(err, pgwire.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
}
