package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner"
	"github.com/sluice-sql/sluice/planner/plan"
)

// waitTimeout bounds every wait for a stream: a test that reaches it has
// found a stream that never got where it should.
const waitTimeout = 10 * time.Second

// epoch is where every test's processing-time clock starts.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness is a Manager over a fresh catalog, with a manual clock and a
// checked allocator, and a planner to turn SQL into specs the way the
// server does. Its cleanup drops every stream and source, closes the
// manager and the catalog, and then checks that no Arrow memory is
// outstanding and no stream loop is left running.
type harness struct {
	t      *testing.T
	ctx    context.Context
	cat    *catalog.Catalog
	mem    *memory.CheckedAllocator
	clock  *ManualClock
	m      *Manager
	parser *planner.Parser
	// catalogClosed is set by a test that closed the catalog: nothing can
	// be dropped then, and the cleanup only closes the manager.
	catalogClosed bool
	// abandoned is set by a test that found the manager stuck: the
	// cleanup leaves it alone.
	abandoned bool
}

// newHarness starts a manager; tweak may change its Config first.
func newHarness(t *testing.T, tweak ...func(*Config)) *harness {
	t.Helper()
	return newHarnessAt(t, t.TempDir(), t.TempDir(), tweak...)
}

// newHarnessAt is newHarness over an existing catalog directory and data
// directory (Config.Dir): a crash image, for instance. It restores nothing
// (see harness.restore).
func newHarnessAt(t *testing.T, catDir, dataDir string, tweak ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), mem: memory.NewCheckedAllocator(memory.NewGoAllocator()),
		clock: NewManualClock(epoch), parser: planner.NewParser()}
	cat, err := catalog.OpenWithOptions(h.ctx, catDir, catalog.Options{NoAutoCheckpoint: true})
	if err != nil {
		t.Fatalf("open catalog: %v", err)
	}
	h.cat = cat
	cfg := Config{Catalog: cat, Dir: dataDir, Clock: h.clock, Mem: h.mem,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range tweak {
		f(&cfg)
	}
	if h.m, err = NewManager(cfg); err != nil {
		t.Fatalf("new manager: %v", err)
	}
	t.Cleanup(h.shutdown)
	return h
}

// shutdown drops everything, closes the manager and the catalog, and
// checks for leaked memory and goroutines.
func (h *harness) shutdown() {
	t := h.t
	if h.abandoned {
		return
	}
	if h.catalogClosed {
		if err := h.m.Close(); err != nil {
			t.Errorf("cleanup: close manager: %v", err)
		}
		h.mem.AssertSize(t, 0)
		checkNoStreamGoroutines(t)
		return
	}
	// Drop the readers of log sinks before the streams they read.
	for range 10 {
		sts := h.m.Streams()
		if len(sts) == 0 {
			break
		}
		for _, st := range sts {
			if err := h.m.DropStream(h.ctx, st.Name, true); err != nil && sqlerr.Code(err) != sqlerr.DependentObjectsStillExist {
				t.Errorf("cleanup: drop stream %s: %v", st.Name, err)
			}
		}
	}
	if sts := h.m.Streams(); len(sts) > 0 {
		t.Errorf("cleanup: streams left: %v", sts)
	}
	for _, si := range h.m.Sources(h.ctx) {
		if err := h.m.DropSource(h.ctx, si.Def.Name, true); err != nil {
			t.Errorf("cleanup: drop source %s: %v", si.Def.Name, err)
		}
	}
	if err := h.m.Close(); err != nil {
		t.Errorf("cleanup: close manager: %v", err)
	}
	if err := h.cat.Close(); err != nil {
		t.Errorf("cleanup: close catalog: %v", err)
	}
	h.mem.AssertSize(t, 0)
	checkNoStreamGoroutines(t)
}

// checkNoStreamGoroutines fails the test if a goroutine of this package
// (a stream loop) is still running after a bounded wait.
func checkNoStreamGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "exec/stream.(*Stream).run") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d stream loops still running:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testCatalog is what the binder sees: the catalog's tables and the
// manager's sources and streams, as the server's catalogView.
type testCatalog struct {
	cat *catalog.Catalog
	m   *Manager
}

var _ planner.Catalog = testCatalog{}

// TableDef implements planner.Catalog.
func (c testCatalog) TableDef(name string) (catalog.TableDef, error) {
	t, err := c.cat.Table(name)
	if err != nil {
		return catalog.TableDef{}, err
	}
	return t.Def(), nil
}

// TableNames implements planner.Catalog.
func (c testCatalog) TableNames() []string { return c.cat.TableNames() }

// SourceDef implements planner.Catalog.
func (c testCatalog) SourceDef(name string) (catalog.SourceDef, bool) { return c.m.SourceDef(name) }

// StreamColumns implements planner.Catalog.
func (c testCatalog) StreamColumns(name string) ([]plan.Column, bool) { return c.m.StreamColumns(name) }

// bind parses and binds one statement.
func (h *harness) bind(sql string) (plan.Statement, error) {
	ps, err := h.parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("%d statements in %q", len(ps), sql)
	}
	b, err := planner.Bind(planner.BindEnv{Catalog: testCatalog{cat: h.cat, m: h.m}, Now: h.clock.Now()}, ps[0])
	if err != nil {
		return nil, err
	}
	return b.Stmt, nil
}

// exec runs a statement about sources and streams as the server does.
func (h *harness) exec(sql string) error {
	st, err := h.bind(sql)
	if err != nil {
		return err
	}
	switch st := st.(type) {
	case *plan.CreateSource:
		return h.m.CreateSource(h.ctx, st.Def, st.SQL, false)
	case *plan.CreateStream:
		return h.m.CreateStream(h.ctx, specOf(st), false)
	case *plan.AlterStream:
		return h.m.SetTrigger(h.ctx, st.Name, *st.Trigger)
	case *plan.StreamControl:
		return h.m.SetPaused(h.ctx, st.Name, st.Pause)
	case *plan.DropStream:
		for _, n := range st.Names {
			if err := h.m.DropStream(h.ctx, n, st.IfExists); err != nil {
				return err
			}
		}
		return nil
	case *plan.DropSource:
		for _, n := range st.Names {
			if err := h.m.DropSource(h.ctx, n, st.IfExists); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("the harness does not run %s", st.StatementTag())
}

func specOf(st *plan.CreateStream) Spec {
	return Spec{Name: st.Name, SQL: st.SQL, Source: st.Source, Query: st.Query, Options: st.Options, Key: st.Key}
}

// mustExec runs a statement that must succeed.
func (h *harness) mustExec(sql string) {
	h.t.Helper()
	if err := h.exec(sql); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// appendRows appends rows to a log source.
func (h *harness) appendRows(src string, rows ...[]any) {
	h.t.Helper()
	if err := h.m.AppendRows(h.ctx, src, rows); err != nil {
		h.t.Fatalf("append to %s: %v", src, err)
	}
}

// waitIdle waits until every stream waits for its trigger, is paused or
// has ended.
func (h *harness) waitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	if err := h.m.WaitIdle(ctx); err != nil {
		h.t.Fatalf("wait idle: %v", err)
	}
}

// advance moves processing time once every stream has set its timer.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.waitIdle()
	h.clock.Advance(d)
}

// waitBatch waits until a stream has committed batch id.
func (h *harness) waitBatch(name string, id int64) Status {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	st, err := h.m.WaitForBatch(ctx, name, id)
	if err != nil {
		h.t.Fatalf("wait for batch %d of %s: %v", id, name, err)
	}
	return st
}

// waitStatus waits until a stream shows status want.
func (h *harness) waitStatus(name, want string) Status {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st := h.status(name)
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("stream %s is %s (last error %v), want %s", name, st.Status, st.LastError, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// status returns a stream's status.
func (h *harness) status(name string) Status {
	h.t.Helper()
	s, err := h.m.stream(name)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Status()
}

// progress returns a stream's kept progress rows.
func (h *harness) progress(name string) []Progress {
	var out []Progress
	for _, p := range h.m.Progress() {
		if p.Stream == name {
			out = append(out, p)
		}
	}
	return out
}

// endOffsets lists the partition-0 end offset of each kept batch.
func (h *harness) endOffsets(name string) []int64 {
	var out []int64
	for _, p := range h.progress(name) {
		out = append(out, p.EndOffsets[0])
	}
	return out
}

// tableRows returns a table's rows printed (fmtRow), sorted.
func (h *harness) tableRows(name string) []string {
	h.t.Helper()
	tbl, err := h.cat.Table(name)
	if err != nil {
		h.t.Fatalf("table %s: %v", name, err)
	}
	snap := tbl.Snapshot()
	out := make([]string, snap.NumRows())
	for i := range out {
		out[i] = fmtRow(snap.Row(i))
	}
	sort.Strings(out)
	return out
}

// recordRows prints a record's rows (fmtRow).
func recordRows(rec arrow.Record) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		row := make([]any, rec.NumCols())
		for c := range row {
			row[c] = expr.ValueAt(rec.Column(c), i)
		}
		out[i] = fmtRow(row)
	}
	return out
}

// fmtRow prints Go values separated by " | ": times as hh:mm:ss, NULL
// as NULL.
func fmtRow(row []any) string {
	parts := make([]string, len(row))
	for i, v := range row {
		switch v := v.(type) {
		case nil:
			parts[i] = "NULL"
		case time.Time:
			parts[i] = v.UTC().Format("15:04:05")
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, " | ")
}

// at is 2026-01-01 at hh:mm:ss UTC: event times of test rows.
func at(hms string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", "2026-01-01 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

// ints returns rows of one BIGINT column holding from, from+1, ... to-1.
func ints(from, to int64) [][]any {
	var rows [][]any
	for i := from; i < to; i++ {
		rows = append(rows, []any{i})
	}
	return rows
}

// wantCode checks that err carries SQLSTATE code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	if got := sqlerr.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
}

// equal compares string slices, printing both on a mismatch.
func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// costClock is a ManualClock where each reading costs time: Now returns
// the time and then moves the clock on by the cost. With a cost of a
// trigger interval, every batch (which reads the clock when it starts and
// when it ends) overruns its interval.
type costClock struct {
	*ManualClock
	mu   sync.Mutex
	cost time.Duration
}

func (c *costClock) setCost(d time.Duration) {
	c.mu.Lock()
	c.cost = d
	c.mu.Unlock()
}

// Now implements Clock.
func (c *costClock) Now() time.Time {
	now := c.ManualClock.Now()
	c.mu.Lock()
	cost := c.cost
	c.mu.Unlock()
	if cost > 0 {
		c.ManualClock.Advance(cost)
	}
	return now
}

var _ Clock = (*costClock)(nil)
