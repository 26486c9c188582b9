package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner"
	"github.com/sluice-sql/sluice/planner/plan"
)

// The benchmarks of this file measure config tables as lookup joins (issue
// 4) end to end through a Manager, as the server runs them: a catalog
// table rules of benchRules rows, a log source ev of events, and a stream
// joining each event to its rule, bound from SQL by the planner.
//
//   - BenchmarkLookupJoin is throughput: each iteration starts a fresh
//     available_now stream over the same pre-filled source and times it
//     from CreateStream until it has drained the source. events/s/core is
//     events/s divided by GOMAXPROCS, although a stream's batches run on
//     one goroutine. With edits, a goroutine UPDATEs one random rule 100
//     times a second while the stream runs; edits/op and versions/op (the
//     distinct rules versions the batches pinned, from sluice_progress)
//     show how often the join's build side had to change.
//   - BenchmarkEditToEffect is latency: while a feeder appends events every
//     millisecond, an edit sets the category of one rule to a value never
//     used before, and the time from the edit's acknowledgement
//     (Table.Write returning) to the first output row carrying that
//     category on a subscription is one sample. p50_ms and p99_ms are over
//     every edit of the run.
//
// Run them with
//
//	go test ./exec/stream -run XXX -bench 'LookupJoin|EditToEffect' -benchtime=1x -count=3

const (
	// benchRules is the number of rows of the rules table.
	benchRules = 10_000
	// benchEvents is how many events each BenchmarkLookupJoin iteration
	// reads.
	benchEvents = 2 << 20
	// benchAppendRows is how many events one append to the source holds
	// while it is pre-filled.
	benchAppendRows = 1 << 16
	// benchHotKeys is how many rules BenchmarkEditToEffect edits, in turn:
	// a rule is edited again only after benchHotKeys edits, long after the
	// previous edit of it has shown.
	benchHotKeys = 16
	// benchEditsPerOp is how many edits one BenchmarkEditToEffect
	// iteration makes, benchEditGap apart.
	benchEditsPerOp = 200
	benchEditGap    = 20 * time.Millisecond
	// benchFeedRows events are appended every benchFeedEvery while
	// BenchmarkEditToEffect runs.
	benchFeedRows  = 100
	benchFeedEvery = time.Millisecond
	// benchWait bounds every wait for a stream.
	benchWait = 5 * time.Minute
)

const (
	benchRulesTable = `CREATE TABLE rules (k BIGINT PRIMARY KEY, category TEXT, threshold INT)`
	benchEvSource   = `CREATE SOURCE ev (k BIGINT, latency INT, ts TIMESTAMP) WITH (connector = 'log')`
	benchJoinQuery  = `SELECT e.k, r.category, e.latency FROM ev e JOIN rules r ON e.k = r.k WHERE e.latency > r.threshold`
)

// benchJoinStream is the CREATE STREAM of a stream running benchJoinQuery.
func benchJoinStream(name, trigger string) string {
	return fmt.Sprintf(`CREATE STREAM %s WITH (trigger = '%s', max_rows_per_batch = 65536, sink = 'none') AS %s`,
		name, trigger, benchJoinQuery)
}

func BenchmarkLookupJoin(b *testing.B) {
	for _, editsPerSec := range []int{0, 100} {
		name := "edits=0"
		if editsPerSec > 0 {
			name = fmt.Sprintf("edits=%d/s", editsPerSec)
		}
		b.Run(name, func(b *testing.B) { benchLookupJoin(b, editsPerSec) })
	}
}

func benchLookupJoin(b *testing.B, editsPerSec int) {
	e := newBenchEnv(b)
	e.fillRules()
	e.fillEvents(benchEvents)
	rng := rand.New(rand.NewSource(2))
	var edits, versions, outRows int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("j%d", i)
		spec := e.streamSpec(benchJoinStream(name, "available_now"))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var applied atomic.Int64
		if editsPerSec > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.editRandomRules(rng, time.Second/time.Duration(editsPerSec), stop, &applied)
			}()
		}
		b.StartTimer()

		if err := e.m.CreateStream(e.ctx, spec, false); err != nil {
			b.Fatalf("create stream: %v", err)
		}
		st := e.waitFinished(name)

		b.StopTimer()
		close(stop)
		wg.Wait()
		if st.Totals.InputRows != benchEvents {
			b.Fatalf("stream %s read %d events, want %d", name, st.Totals.InputRows, benchEvents)
		}
		outRows += st.Totals.OutputRows
		edits += applied.Load()
		seen := map[string]bool{}
		for _, p := range e.m.Progress() {
			if p.Stream == name {
				seen[p.ConfigVersions] = true
			}
		}
		versions += int64(len(seen))
		if err := e.m.DropStream(e.ctx, name, false); err != nil {
			b.Fatalf("drop stream: %v", err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	perSec := float64(b.N) * benchEvents / secs
	b.ReportMetric(perSec, "events/s")
	b.ReportMetric(perSec/float64(runtime.GOMAXPROCS(0)), "events/s/core")
	b.ReportMetric(float64(outRows)/float64(b.N), "outrows/op")
	b.ReportMetric(float64(edits)/float64(b.N), "edits/op")
	b.ReportMetric(float64(versions)/float64(b.N), "versions/op")
}

// editRandomRules UPDATEs the threshold of a random rule every interval
// until stop is closed, counting the edits in applied.
func (e *benchEnv) editRandomRules(rng *rand.Rand, every time.Duration, stop <-chan struct{}, applied *atomic.Int64) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		k, threshold := rng.Int63n(benchRules), rng.Int63n(1000)
		if err := e.setRule(k, func(row []any) { row[2] = threshold }); err != nil {
			e.b.Errorf("edit rule %d: %v", k, err)
			return
		}
		applied.Add(1)
	}
}

func BenchmarkEditToEffect(b *testing.B) {
	for _, trigger := range []string{"100ms", "0s"} {
		b.Run("trigger="+trigger, func(b *testing.B) { benchEditToEffect(b, trigger) })
	}
}

func benchEditToEffect(b *testing.B, trigger string) {
	e := newBenchEnv(b)
	e.fillRules()
	// Every event of a hot key passes the WHERE: the first batch that
	// pins an edit of it emits the new category.
	for k := int64(0); k < benchHotKeys; k++ {
		if err := e.setRule(k, func(row []any) { row[2] = int64(-1) }); err != nil {
			b.Fatalf("set rule %d: %v", k, err)
		}
	}
	const name = "effect"
	if err := e.m.CreateStream(e.ctx, e.streamSpec(benchJoinStream(name, trigger)), false); err != nil {
		b.Fatalf("create stream: %v", err)
	}
	sub, err := e.m.Subscribe(name)
	if err != nil {
		b.Fatalf("subscribe: %v", err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		sub.Close()
	}()

	n := benchEditsPerOp * b.N
	acked := make([]time.Time, n)
	seen := make([]atomic.Int64, n) // UnixNano of the first row with category xI
	var nSeen atomic.Int64
	allSeen := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		e.feed(ctx)
	}()
	go func() {
		defer wg.Done()
		for {
			rec, err := sub.Next(ctx)
			if err != nil || rec == nil {
				if err != nil && ctx.Err() == nil {
					b.Errorf("subscription: %v", err)
				}
				return
			}
			now := time.Now().UnixNano()
			for _, i := range editsIn(rec) {
				if i < n && seen[i].CompareAndSwap(0, now) && nSeen.Add(1) == int64(n) {
					close(allSeen)
				}
			}
			rec.Release()
		}
	}()
	// Start measuring once the stream keeps up with the feeder.
	if _, err := e.m.WaitForBatch(e.ctx, name, 1); err != nil {
		b.Fatalf("wait for the first batches: %v", err)
	}

	b.ResetTimer()
	tick := time.NewTicker(benchEditGap)
	for i := range n {
		<-tick.C
		category := "x" + strconv.Itoa(i)
		if err := e.setRule(int64(i%benchHotKeys), func(row []any) { row[1] = category }); err != nil {
			b.Fatalf("edit %d: %v", i, err)
		}
		acked[i] = time.Now()
	}
	tick.Stop()
	select {
	case <-allSeen:
	case <-time.After(10 * time.Second):
		b.Fatalf("%d of %d edits never showed in the output", int64(n)-nSeen.Load(), n)
	}
	b.StopTimer()

	lat := make([]float64, n)
	for i := range lat {
		lat[i] = float64(time.Unix(0, seen[i].Load()).Sub(acked[i])) / float64(time.Millisecond)
	}
	slices.Sort(lat)
	b.ReportMetric(percentile(lat, 0.50), "p50_ms")
	b.ReportMetric(percentile(lat, 0.99), "p99_ms")
	b.ReportMetric(lat[len(lat)-1], "max_ms")
	b.ReportMetric(0, "ns/op")
}

// feed appends benchFeedRows events every benchFeedEvery until ctx ends:
// one for each hot key, the others for random keys.
func (e *benchEnv) feed(ctx context.Context) {
	rng := rand.New(rand.NewSource(3))
	rows := make([][]any, benchFeedRows)
	for i := range rows {
		rows[i] = make([]any, 3)
	}
	tick := time.NewTicker(benchFeedEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		for i, row := range rows {
			k := int64(i)
			if i >= benchHotKeys {
				k = rng.Int63n(benchRules)
			}
			row[0], row[1], row[2] = k, rng.Int63n(1000), now
		}
		// Through the manager, as an INSERT does: it wakes the streams
		// reading the source.
		if err := e.m.AppendRows(ctx, "ev", rows); err != nil {
			if ctx.Err() == nil {
				e.b.Errorf("feed: %v", err)
			}
			return
		}
	}
}

// editsIn returns the edit numbers I of the categories "xI" in an output
// record of benchJoinQuery (column 1 is the category).
func editsIn(rec arrow.Record) []int {
	cats, ok := rec.Column(1).(*array.String)
	if !ok {
		return nil
	}
	var out []int
	for r := 0; r < cats.Len(); r++ {
		if cats.IsNull(r) {
			continue
		}
		v := cats.Value(r)
		if len(v) < 2 || v[0] != 'x' {
			continue
		}
		if i, err := strconv.Atoi(v[1:]); err == nil && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

// percentile returns the nearest-rank p-quantile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// benchEnv is a Manager over a fresh catalog holding the rules table and
// the ev source. Its cleanup drops every stream, closes the manager and
// the catalog, and checks that no Arrow memory is outstanding.
type benchEnv struct {
	b      *testing.B
	ctx    context.Context
	cat    *catalog.Catalog
	mem    *benchAllocator
	m      *Manager
	parser *planner.Parser
	rules  *catalog.Table
	log    *source.Log // of ev
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	e := &benchEnv{b: b, ctx: context.Background(), mem: &benchAllocator{Allocator: memory.NewGoAllocator()},
		parser: planner.NewParser()}
	cat, err := catalog.Open(e.ctx, b.TempDir())
	if err != nil {
		b.Fatalf("open catalog: %v", err)
	}
	e.cat = cat
	e.m, err = NewManager(Config{Catalog: cat, Dir: b.TempDir(), Mem: e.mem,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		ProgressRows: 1 << 12, SubscriberBuffer: 1 << 14})
	if err != nil {
		b.Fatalf("new manager: %v", err)
	}
	b.Cleanup(e.shutdown)

	st := e.bind(benchRulesTable).(*plan.CreateTable)
	if err := cat.CreateTable(e.ctx, st.Def, false); err != nil {
		b.Fatalf("create table: %v", err)
	}
	if e.rules, err = cat.Table("rules"); err != nil {
		b.Fatal(err)
	}
	src := e.bind(benchEvSource).(*plan.CreateSource)
	if err := e.m.CreateSource(e.ctx, src.Def, src.SQL, false); err != nil {
		b.Fatalf("create source: %v", err)
	}
	e.m.mu.Lock()
	e.log = e.m.sources["ev"].log
	e.m.mu.Unlock()
	return e
}

func (e *benchEnv) shutdown() {
	b := e.b
	for _, st := range e.m.Streams() {
		if err := e.m.DropStream(e.ctx, st.Name, true); err != nil {
			b.Errorf("cleanup: drop stream %s: %v", st.Name, err)
		}
	}
	if err := e.m.DropSource(e.ctx, "ev", true); err != nil {
		b.Errorf("cleanup: drop source: %v", err)
	}
	if err := e.m.Close(); err != nil {
		b.Errorf("cleanup: close manager: %v", err)
	}
	if err := e.cat.Close(); err != nil {
		b.Errorf("cleanup: close catalog: %v", err)
	}
	if n := e.mem.n.Load(); n != 0 {
		b.Errorf("cleanup: %d bytes of Arrow memory outstanding", n)
	}
}

// bind parses and binds one statement.
func (e *benchEnv) bind(sql string) plan.Statement {
	e.b.Helper()
	ps, err := e.parser.Parse(sql)
	if err != nil || len(ps) != 1 {
		e.b.Fatalf("parse %s: %v (%d statements)", sql, err, len(ps))
	}
	bound, err := planner.Bind(planner.BindEnv{Catalog: benchCatalog{e}, Now: time.Now()}, ps[0])
	if err != nil {
		e.b.Fatalf("bind %s: %v", sql, err)
	}
	return bound.Stmt
}

// streamSpec binds a CREATE STREAM.
func (e *benchEnv) streamSpec(sql string) Spec {
	st := e.bind(sql).(*plan.CreateStream)
	return Spec{Name: st.Name, SQL: st.SQL, Source: st.Source, Query: st.Query, Options: st.Options, Key: st.Key}
}

// waitFinished waits until an available_now stream has drained its source.
func (e *benchEnv) waitFinished(name string) Status {
	e.b.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, benchWait)
	defer cancel()
	// No batch has this id: WaitForBatch returns when the stream ends.
	st, _ := e.m.WaitForBatch(ctx, name, math.MaxInt64)
	if st.Status != StatusFinished {
		e.b.Fatalf("stream %s is %s (last error %v), want %s", name, st.Status, st.LastError, StatusFinished)
	}
	return st
}

// fillRules inserts the benchRules rules in one statement: key k, category
// c<k mod 50>, a threshold in [0, 1000).
func (e *benchEnv) fillRules() {
	rng := rand.New(rand.NewSource(1))
	_, err := e.rules.Write(e.ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error {
		for k := int64(0); k < benchRules; k++ {
			if err := w.Insert([]any{k, "c" + strconv.FormatInt(k%50, 10), rng.Int63n(1000)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.b.Fatalf("fill rules: %v", err)
	}
}

// setRule UPDATEs the rule with key k: one statement deleting its row and
// inserting the row as change leaves it.
func (e *benchEnv) setRule(k int64, change func(row []any)) error {
	_, err := e.rules.Write(e.ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		ord, ok := cur.Lookup([]any{k})
		if !ok {
			return fmt.Errorf("no rule %d", k)
		}
		row := cur.Row(ord)
		change(row)
		if err := w.Delete(ord); err != nil {
			return err
		}
		return w.Insert(row)
	})
	return err
}

// fillEvents appends n events to ev in appends of benchAppendRows: keys
// uniform over the rules, latency uniform in [0, 1000), one event per
// microsecond.
func (e *benchEnv) fillEvents(n int) {
	rng := rand.New(rand.NewSource(4))
	schema := e.log.Schema()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for start := 0; start < n; start += benchAppendRows {
		rows := min(benchAppendRows, n-start)
		rb := array.NewRecordBuilder(e.mem, schema)
		kb := rb.Field(0).(*array.Int64Builder)
		lb := rb.Field(1).(*array.Int32Builder)
		tb := rb.Field(2).(*array.TimestampBuilder)
		kb.Reserve(rows)
		lb.Reserve(rows)
		tb.Reserve(rows)
		for i := start; i < start+rows; i++ {
			kb.UnsafeAppend(rng.Int63n(benchRules))
			lb.UnsafeAppend(int32(rng.Intn(1000)))
			tb.UnsafeAppend(arrow.Timestamp(t0 + int64(i)))
		}
		rec := rb.NewRecord()
		rb.Release()
		_, err := e.log.AppendRecords(e.ctx, []arrow.Record{rec})
		rec.Release()
		if err != nil {
			e.b.Fatalf("fill events: %v", err)
		}
	}
}

// benchCatalog is what the binder sees: the catalog's tables and the
// manager's sources and streams.
type benchCatalog struct{ e *benchEnv }

var _ planner.Catalog = benchCatalog{}

// TableDef implements planner.Catalog.
func (c benchCatalog) TableDef(name string) (catalog.TableDef, error) {
	t, err := c.e.cat.Table(name)
	if err != nil {
		return catalog.TableDef{}, err
	}
	return t.Def(), nil
}

// TableNames implements planner.Catalog.
func (c benchCatalog) TableNames() []string { return c.e.cat.TableNames() }

// SourceDef implements planner.Catalog.
func (c benchCatalog) SourceDef(name string) (catalog.SourceDef, bool) { return c.e.m.SourceDef(name) }

// StreamColumns implements planner.Catalog.
func (c benchCatalog) StreamColumns(name string) ([]plan.Column, bool) {
	return c.e.m.StreamColumns(name)
}

// benchAllocator counts the bytes outstanding, as a CheckedAllocator does,
// without recording where each allocation came from, which would dominate
// a benchmark.
type benchAllocator struct {
	memory.Allocator
	n atomic.Int64
}

var _ memory.Allocator = (*benchAllocator)(nil)

// Allocate implements memory.Allocator.
func (a *benchAllocator) Allocate(size int) []byte {
	a.n.Add(int64(size))
	return a.Allocator.Allocate(size)
}

// Reallocate implements memory.Allocator.
func (a *benchAllocator) Reallocate(size int, b []byte) []byte {
	a.n.Add(int64(size - len(b)))
	return a.Allocator.Reallocate(size, b)
}

// Free implements memory.Allocator.
func (a *benchAllocator) Free(b []byte) {
	a.n.Add(-int64(len(b)))
	a.Allocator.Free(b)
}
