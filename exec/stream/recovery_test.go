package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner"
	"github.com/sluice-sql/sluice/planner/plan"
)

// The tests of this file crash a stream in-process and recover it.
//
// A crash is a crash image. A Config.Hook (a crash) stops the stream's
// loop at a named point of a chosen batch. While the loop waits there, the
// test may change things (UPDATE a table, PAUSE the stream), then copies
// the catalog's and the manager's directories as they are on disk, which
// is what kill -9 at that moment would leave, lets the loop end with
// runtime.Goexit (nothing after the point happens; its deferred releases
// run) and shuts the original down. A second harness opens the copy and
// restores the stored sources and streams as the server does on start.
//
// What a recovered stream must produce is what the same input gives a run
// that never crashed, in a manager of its own.

// crash stops the loop of a manager's only stream for good at point of
// batch (counting the batches the manager plans, or runs again, from 0).
type crash struct {
	point string
	batch int64

	mu      sync.Mutex
	planned int64 // "planned" points seen
	fired   bool
	reached chan struct{} // closed when the loop waits at the point
	release chan struct{} // closed to let the loop exit
}

func newCrash(point string, batch int64) *crash {
	return &crash{point: point, batch: batch, reached: make(chan struct{}), release: make(chan struct{})}
}

// config installs the crash as the manager's hook.
func (c *crash) config(cfg *Config) { cfg.Hook = c.hook }

func (c *crash) hook(point string) {
	c.mu.Lock()
	if point == "planned" {
		c.planned++
	}
	hit := !c.fired && point == c.point && c.planned-1 == c.batch
	if hit {
		c.fired = true
	}
	c.mu.Unlock()
	if !hit {
		return
	}
	close(c.reached)
	// Bounded: a test that failed before it took the crash image must
	// still be able to shut its manager down.
	select {
	case <-c.release:
	case <-time.After(2 * waitTimeout):
	}
	runtime.Goexit()
}

// wait waits until the loop has stopped at the crash point.
func (c *crash) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.reached:
	case <-time.After(waitTimeout):
		t.Fatalf("the stream never reached %q of batch %d", c.point, c.batch)
	}
}

// crashImage waits for the crash, copies the catalog's directory and the
// manager's directory to new ones, lets the stopped loop exit and shuts
// the harness down. It returns the copies.
func (h *harness) crashImage(c *crash) (catDir, dataDir string) {
	h.t.Helper()
	c.wait(h.t)
	catDir, dataDir = h.t.TempDir(), h.t.TempDir()
	copyTree(h.t, h.cat.Dir(), catDir)
	copyTree(h.t, h.m.cfg.Dir, dataDir)
	close(c.release)
	h.finish()
	return catDir, dataDir
}

// finish shuts the harness down now, with its checks (no Arrow memory
// outstanding, no stream loop left); its cleanup then does nothing. Only
// one harness of a test may have stream loops running when another shuts
// down: a harness that is done with goes before the next one starts.
func (h *harness) finish() {
	h.t.Helper()
	h.shutdown()
	h.abandoned = true
}

// copyTree copies the directory src into the existing directory dst as
// cp -a does: contents, modes, modification times and symbolic links.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
			return os.Chmod(to, info.Mode().Perm())
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case info.Mode().IsRegular():
			if err := copyFile(path, to, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chtimes(to, info.ModTime(), info.ModTime())
		}
		return nil // sockets and the like: not in a data directory
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// restore recreates the stored sources and streams, oldest first, as the
// server does on start (server/streams.go, restoreObjects).
func (h *harness) restore() {
	h.t.Helper()
	for _, o := range h.cat.Objects() {
		if err := h.restoreObject(o); err != nil {
			h.t.Fatalf("restore %s %s: %v", o.Kind, o.Name, err)
		}
	}
}

// restoreObject binds a stored definition again and creates it with
// restore set.
func (h *harness) restoreObject(o catalog.Object) error {
	ps, err := h.parser.Parse(o.SQL)
	if err != nil {
		return err
	}
	if len(ps) != 1 {
		return fmt.Errorf("stored definition has %d statements", len(ps))
	}
	b, err := planner.Bind(planner.BindEnv{Catalog: testCatalog{cat: h.cat, m: h.m}, Now: h.clock.Now(), Restoring: true}, ps[0])
	if err != nil {
		return err
	}
	switch st := b.Stmt.(type) {
	case *plan.CreateSource:
		return h.m.CreateSource(h.ctx, st.Def, st.SQL, true)
	case *plan.CreateStream:
		spec := specOf(st)
		spec.Paused = o.Paused
		if trig, ok := o.Options["trigger"]; ok {
			if spec.Options.Trigger, err = planner.ParseTrigger(trig); err != nil {
				return err
			}
		}
		return h.m.CreateStream(h.ctx, spec, true)
	}
	return fmt.Errorf("stored definition is a %s", b.Stmt.StatementTag())
}

// replace runs CREATE OR REPLACE STREAM.
func (h *harness) replace(sql string) {
	h.t.Helper()
	st, err := h.bind(sql)
	if err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	if err := h.m.ReplaceStream(h.ctx, specOf(st.(*plan.CreateStream))); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// waitFinished waits until a stream has finished (trigger once or
// available_now), failing at once if it fails.
func (h *harness) waitFinished(name string) Status {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	st, err := h.m.WaitForStatus(ctx, name, StatusFinished)
	if err != nil {
		h.t.Fatalf("wait for %s to finish: %v", name, err)
	}
	return st
}

// checkpointFile is the path of a file in a stream's checkpoint directory.
func (h *harness) checkpointFile(stream, file string) string {
	return filepath.Join(h.m.checkpointDir(stream), file)
}

// sinkRows returns the rows of a stream's sink, a table or a log, printed
// (fmtRow) and sorted.
func (h *harness) sinkRows(stream string) []string {
	h.t.Helper()
	h.m.mu.Lock()
	e, ok := h.m.sources[stream]
	h.m.mu.Unlock()
	if !ok || e.owner != stream {
		return h.tableRows(stream)
	}
	earliest, err := e.src.Earliest(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	latest, err := e.src.Latest(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	recs, err := e.src.Read(h.ctx, h.mem, earliest, latest, 1<<14)
	if err != nil {
		h.t.Fatalf("read the log sink of %s: %v", stream, err)
	}
	defer releaseAll(recs)
	var out []string
	for _, r := range recs {
		out = append(out, recordRows(r)...)
	}
	sortStrings(out)
	return out
}

// --- Exactly-once table sinks at every crash point ------------------------

// evSource and evRows are the input of the exactly-once tests: twelve
// rows, read two per batch (batches 0 to 5). Some are late for a window.
const evSource = `CREATE SOURCE ev (ts TIMESTAMP, k TEXT, n BIGINT)
	WITH (connector = 'log', event_time = 'ts', watermark_delay = '10s')`

func evRows() [][]any {
	return [][]any{
		{at("10:00:05"), "a", int64(0)}, {at("10:00:30"), "b", int64(1)}, // watermark 10:00:20
		{at("10:00:50"), "a", int64(2)}, {at("10:01:20"), "c", int64(3)}, // 10:01:10: 10:00 closes
		{at("10:00:40"), "b", int64(4)}, {at("10:01:05"), "a", int64(5)}, // both late
		{at("10:01:30"), "b", int64(6)}, {at("10:02:10"), "c", int64(7)}, // 10:02:00: 10:01 closes
		{at("10:02:20"), "a", int64(8)}, {at("10:03:15"), "b", int64(9)}, // 10:03:05: 10:02 closes
		{at("10:02:59"), "c", int64(10)}, {at("10:03:30"), "a", int64(11)}, // one late
	}
}

// everyTwo snapshots the state every two batches: after batches 1, 3, 5.
func everyTwo(c *Config) { c.CheckpointEvery = 2 }

// drainedRun runs stream (an available_now CREATE STREAM over ev) over
// evRows without a crash and returns its table and its progress.
func drainedRun(t *testing.T, stream string) ([]string, []Progress) {
	t.Helper()
	h := newHarness(t, everyTwo)
	h.mustExec(evSource)
	h.appendRows("ev", evRows()...)
	h.mustExec(stream)
	h.waitFinished("s")
	rows, prog := h.sinkRows("s"), h.progress("s")
	h.finish()
	return rows, prog
}

func TestATableSinkHoldsEveryBatchExactlyOnceWhereverTheCrashCame(t *testing.T) {
	streams := []struct{ name, sql string }{
		{"a stateless stream", `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 2) AS
			SELECT n, k FROM ev WHERE n % 4 < 2`},
		{"an aggregate in update mode", `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 2, output_mode = 'update') AS
			SELECT k, count(*) AS c, sum(n) AS total FROM ev GROUP BY k`},
		{"a windowed aggregate in append mode", `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 2, output_mode = 'append') AS
			SELECT TUMBLE_START(ts, INTERVAL '1 minute') AS minute, count(*) AS c, sum(n) AS total
			FROM ev GROUP BY TUMBLE(ts, INTERVAL '1 minute')`},
		// Not a table sink: a log sink's frames carry the batch id.
		{"a stateless stream with a log sink", `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 2, sink = 'log') AS
			SELECT n, k FROM ev WHERE n % 4 < 2`},
	}
	// Batch 0 crashes before anything is committed; batch 1 before the
	// first snapshot (a replay from the start); batch 3 after the snapshot
	// of batch 1 (a replay of batch 2).
	crashes := []struct {
		point string
		batch int64
	}{
		{"planned", 0}, {"sunk", 0}, {"committed", 0},
		{"planned", 1}, {"sunk", 1}, {"committed", 1}, {"snapshot", 1},
		{"planned", 3}, {"sunk", 3}, {"committed", 3}, {"snapshot", 3},
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			want, wantProg := drainedRun(t, s.sql)
			if len(want) == 0 || len(wantProg) != 6 {
				t.Fatalf("the run without a crash: %d rows in %d batches, want rows in 6 batches", len(want), len(wantProg))
			}
			for _, cr := range crashes {
				t.Run(fmt.Sprintf("a crash at %s of batch %d", cr.point, cr.batch), func(t *testing.T) {
					c := newCrash(cr.point, cr.batch)
					h := newHarness(t, everyTwo, c.config)
					h.mustExec(evSource)
					h.appendRows("ev", evRows()...)
					h.mustExec(s.sql)
					catDir, dataDir := h.crashImage(c)

					r := newHarnessAt(t, catDir, dataDir, everyTwo)
					r.restore()
					st := r.waitFinished("s")
					if st.LastBatch != 5 {
						t.Errorf("last batch %d, want 5", st.LastBatch)
					}
					equal(t, "the sink", r.sinkRows("s"), want)

					// The restarted stream runs the crashed batch again
					// unless it committed, or the sink has it (then
					// recovery commits it): a batch with no output rows
					// leaves no mark in the sink, so it runs again.
					first := cr.batch + 1
					if cr.point == "planned" || cr.point == "sunk" && wantProg[cr.batch].OutputRows == 0 {
						first = cr.batch
					}
					var got, wantBatches []string
					for _, p := range r.progress("s") {
						got = append(got, fmt.Sprintf("%d: %s-%s out %d", p.BatchID, p.StartOffsets, p.EndOffsets, p.OutputRows))
					}
					for _, p := range wantProg[first:] {
						wantBatches = append(wantBatches, fmt.Sprintf("%d: %s-%s out %d", p.BatchID, p.StartOffsets, p.EndOffsets, p.OutputRows))
					}
					equal(t, "the batches after the restart", got, wantBatches)
				})
			}
		})
	}
}

// --- Replay with pinned config-table versions -----------------------------

// setCategory UPDATEs the category of rule k and returns the new version.
func setCategory(t *testing.T, h *harness, k, cat string) uint64 {
	t.Helper()
	snap, err := mustTable(t, h, "rules").Write(h.ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		if ord, ok := cur.Lookup([]any{k}); ok {
			if err := w.Delete(ord); err != nil {
				return err
			}
		}
		return w.Insert([]any{k, cat})
	})
	if err != nil {
		t.Fatalf("update rule %s: %v", k, err)
	}
	return snap.Version()
}

func TestABatchRunAgainAfterACrashJoinsTheTableVersionItsPlanPinned(t *testing.T) {
	for _, point := range []string{"planned", "sunk"} {
		t.Run("a crash at "+point, func(t *testing.T) {
			c := newCrash(point, 1)
			h := newHarness(t, c.config)
			def := catalog.TableDef{Name: "rules", PrimaryKey: []int{0},
				Columns: []catalog.ColumnDef{{Name: "k", Type: sqltypes.Text}, {Name: "cat", Type: sqltypes.Text}}}
			if err := h.cat.CreateTable(h.ctx, def, false); err != nil {
				t.Fatal(err)
			}
			setCategory(t, h, "a", "old")
			v := setCategory(t, h, "b", "old")
			h.mustExec(`CREATE SOURCE ev (k TEXT, n BIGINT) WITH (connector = 'log')`)
			h.appendRows("ev", []any{"a", int64(0)})
			h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT e.n, e.k, r.cat FROM ev e JOIN rules r ON e.k = r.k`)
			h.waitBatch("s", 0)

			// Batch 1 pins version v; the table moves on to v+1 after its
			// plan is durable, and before the crash.
			h.appendRows("ev", []any{"a", int64(1)}, []any{"b", int64(2)})
			h.advance(time.Second)
			c.wait(t)
			if got := setCategory(t, h, "a", "new"); got != v+1 {
				t.Fatalf("the update made version %d, want %d", got, v+1)
			}
			h.appendRows("ev", []any{"a", int64(3)}) // for batch 2
			catDir, dataDir := h.crashImage(c)

			// The catalog keeps only its latest version after a restart:
			// batch 1 can only read v from the checkpoint.
			r := newHarnessAt(t, catDir, dataDir)
			if vs := mustTable(t, r, "rules").Versions(); len(vs) != 1 {
				t.Fatalf("the restarted catalog retains %d versions of rules, want 1", len(vs))
			}
			r.restore()
			r.waitBatch("s", 1)
			r.advance(time.Second)
			r.waitBatch("s", 2)
			equal(t, "the sink table", r.tableRows("s"), []string{"0 | a | old", "1 | a | old", "2 | b | old", "3 | a | new"})

			var got []string
			for _, p := range r.progress("s") {
				got = append(got, fmt.Sprintf("%d: %s", p.BatchID, p.ConfigVersions))
			}
			want := []string{fmt.Sprintf("1: rules=%d", v), fmt.Sprintf("2: rules=%d", v+1)}
			if point == "sunk" {
				want = want[1:] // recovery committed batch 1: the sink had it
			}
			equal(t, "the versions each batch read", got, want)
		})
	}
}

// --- State snapshots and replay -------------------------------------------

// kvSource and kvBatch are the input of the snapshot and replace tests:
// batch i appends three rows.
const kvSource = `CREATE SOURCE kv (k TEXT, n BIGINT) WITH (connector = 'log')`

func kvBatch(i int64) [][]any {
	return [][]any{{"a", 3 * i}, {"b", 3*i + 1}, {"a", 3*i + 2}}
}

func everyThree(c *Config) { c.CheckpointEvery = 3 }

// flipByte damages the middle of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cutShort truncates a file to half its length.
func cutShort(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryReplaysFromTheNewestValidStateSnapshot(t *testing.T) {
	const stream = `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 3) AS
		SELECT k, count(*) AS c, sum(n) AS total, min(n) AS lo, max(n) AS hi FROM kv GROUP BY k`
	input := func(h *harness) {
		for i := range int64(10) {
			h.appendRows("kv", kvBatch(i)...)
		}
	}
	// Without a crash: batches 0 to 9, snapshots after 2, 5 and 8.
	h := newHarness(t, everyThree)
	h.mustExec(kvSource)
	input(h)
	h.mustExec(stream)
	h.waitFinished("s")
	want := h.tableRows("s")
	h.finish()

	// The crash comes after batch 7 committed: the checkpoint has the
	// snapshots of batches 2 and 5, and the plans after batch 2.
	cases := []struct {
		name    string
		damage  []string // snapshots to damage in the crash image
		how     func(*testing.T, string)
		corrupt []string // what recovery sets aside
	}{
		{name: "the newest snapshot is intact"},
		{name: "the newest snapshot has a flipped byte", damage: []string{"state-5.arrow"}, how: flipByte,
			corrupt: []string{"state-5.arrow.corrupt"}},
		{name: "the newest snapshot is cut short", damage: []string{"state-5.arrow"}, how: cutShort,
			corrupt: []string{"state-5.arrow.corrupt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrash("committed", 7)
			h := newHarness(t, everyThree, c.config)
			h.mustExec(kvSource)
			input(h)
			h.mustExec(stream)
			catDir, dataDir := h.crashImage(c)

			r := newHarnessAt(t, catDir, dataDir, everyThree)
			states, _ := filepath.Glob(r.checkpointFile("s", "state-*"))
			for i := range states {
				states[i] = filepath.Base(states[i])
			}
			equal(t, "the snapshots in the crash image", states, []string{"state-2.arrow", "state-5.arrow"})
			for _, f := range tc.damage {
				tc.how(t, r.checkpointFile("s", f))
			}
			r.restore()
			st := r.waitFinished("s")
			if st.LastBatch != 9 {
				t.Errorf("last batch %d, want 9", st.LastBatch)
			}
			equal(t, "the totals", r.tableRows("s"), want)
			if p := r.progress("s"); len(p) == 0 || p[0].BatchID != 8 || p[0].StartOffsets[0] != 24 {
				t.Errorf("the first batch after the restart: %+v, want batch 8 from offset 24", p)
			}
			for _, f := range tc.corrupt {
				if _, err := os.Stat(r.checkpointFile("s", f)); err != nil {
					t.Errorf("the damaged snapshot was not set aside: %v", err)
				}
			}
		})
	}

	t.Run("with every snapshot damaged the stream fails", func(t *testing.T) {
		c := newCrash("committed", 7)
		h := newHarness(t, everyThree, c.config)
		h.mustExec(kvSource)
		input(h)
		h.mustExec(stream)
		catDir, dataDir := h.crashImage(c)

		r := newHarnessAt(t, catDir, dataDir, everyThree)
		flipByte(t, r.checkpointFile("s", "state-2.arrow"))
		flipByte(t, r.checkpointFile("s", "state-5.arrow"))
		r.restore()
		// The plans before batch 2 are gone: there is nothing to replay
		// from. The stream shows why, and its table is left as it was.
		st := r.status("s")
		if st.Status != StatusFailed {
			t.Fatalf("%s, want failed", st.Status)
		}
		wantCode(t, st.LastError, sqlerr.DataCorrupted)
		if got := r.tableRows("s"); len(got) == 0 {
			t.Error("the sink table was emptied")
		}
		wantCode(t, r.exec(`RESUME STREAM s`), sqlerr.ObjectNotInPrerequisiteState)
	})
}

// tearLast cuts the last bytes off a file: a record whose append the
// crash interrupted.
func tearLast(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-3); err != nil {
		t.Fatal(err)
	}
}

func TestATornLastRecordOfACheckpointLogIsDiscardedAndTheBatchRecovered(t *testing.T) {
	const stream = `CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 3) AS
		SELECT k, count(*) AS c, sum(n) AS total FROM kv GROUP BY k`
	input := func(h *harness) {
		for i := range int64(6) {
			h.appendRows("kv", kvBatch(i)...)
		}
	}
	h := newHarness(t, everyTwo)
	h.mustExec(kvSource)
	input(h)
	h.mustExec(stream)
	h.waitFinished("s")
	want := h.tableRows("s")
	h.finish()

	for _, tc := range []struct {
		name, point, log string
		// first is the first batch the restarted stream runs: a torn
		// plan is planned again; a torn commit of a batch the sink has
		// is committed by recovery.
		first int64
	}{
		{name: "a torn plan is planned again", point: "planned", log: "offsets.log", first: 4},
		{name: "a torn commit of a batch the sink has is committed again", point: "committed", log: "commits.log", first: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrash(tc.point, 4)
			h := newHarness(t, everyTwo, c.config)
			h.mustExec(kvSource)
			input(h)
			h.mustExec(stream)
			catDir, dataDir := h.crashImage(c)

			r := newHarnessAt(t, catDir, dataDir, everyTwo)
			tearLast(t, r.checkpointFile("s", tc.log))
			r.restore()
			st := r.waitFinished("s")
			if st.LastBatch != 5 {
				t.Errorf("last batch %d, want 5", st.LastBatch)
			}
			equal(t, "the totals", r.tableRows("s"), want)
			if p := r.progress("s"); len(p) == 0 || p[0].BatchID != tc.first || p[0].StartOffsets[0] != 3*tc.first {
				t.Errorf("the first batch after the restart: %+v, want batch %d from offset %d", p, tc.first, 3*tc.first)
			}
		})
	}
}

// --- Data-loss guard ------------------------------------------------------

// retainedSource keeps ten rows, one append per segment.
const retainedSource = `CREATE SOURCE nums (n BIGINT) WITH (connector = 'log', retention = '10 rows', segment_bytes = '1')`

// appendEach appends rows one append (one segment) each.
func appendEach(h *harness, src string, rows [][]any) {
	h.t.Helper()
	for _, r := range rows {
		h.appendRows(src, r)
	}
}

// earliest is the earliest offset of partition 0 of a source.
func earliest(t *testing.T, h *harness, src string) int64 {
	t.Helper()
	for _, si := range h.m.Sources(h.ctx) {
		if si.Def.Name == src {
			if si.Err != nil {
				t.Fatal(si.Err)
			}
			return si.Earliest[0]
		}
	}
	t.Fatalf("no source %s", src)
	return 0
}

func TestAStreamWhoseOffsetsRetentionDeletedFailsOrSkipsTheGap(t *testing.T) {
	for _, tc := range []struct {
		name, opt string
		fail      bool
	}{
		{name: "by default it fails naming stream, source, partition and offsets", fail: true},
		{name: "with fail_on_data_loss = false it skips to the earliest offset", opt: `, fail_on_data_loss = 'false'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustExec(retainedSource)
			appendEach(h, "nums", ints(0, 5))
			h.mustExec(`CREATE STREAM s WITH (trigger = '1s'` + tc.opt + `) AS SELECT n FROM nums`)
			h.waitBatch("s", 0)
			h.mustExec(`PAUSE STREAM s`)
			h.waitIdle()
			appendEach(h, "nums", ints(5, 25))
			if e := earliest(t, h, "nums"); e != 15 {
				t.Fatalf("retention left the source from offset %d, want 15", e)
			}
			h.mustExec(`RESUME STREAM s`)
			h.advance(time.Second)
			if tc.fail {
				st := h.waitStatus("s", StatusFailed)
				wantCode(t, st.LastError, sqlerr.InvalidParameterValue)
				for _, part := range []string{`stream "s"`, `source "nums"`, `partition 0`, `[5, 15)`} {
					if !strings.Contains(st.LastError.Error(), part) {
						t.Errorf("the error %q does not name %s", st.LastError, part)
					}
				}
				if st.LastBatch != 0 {
					t.Errorf("last batch %d, want 0", st.LastBatch)
				}
				equal(t, "the table", h.tableRows("s"), fmtInts(0, 5))
				return
			}
			h.waitBatch("s", 1)
			p := h.progress("s")
			if got := fmt.Sprintf("%s-%s skipped %q", p[1].StartOffsets, p[1].EndOffsets, p[1].Skipped); got != `{0:15}-{0:25} skipped "0:[5,15)"` {
				t.Errorf("batch 1: %s, want {0:15}-{0:25} skipped \"0:[5,15)\"", got)
			}
			if p[0].Skipped != "" {
				t.Errorf("batch 0 skipped %q, want nothing", p[0].Skipped)
			}
			equal(t, "the table", h.tableRows("s"), fmtInts(0, 5, 15, 25))
		})
	}
}

// A plan that was durable before the crash but whose offsets retention
// deleted before the restart ran it again.
func TestABatchRunAgainAfterACrashWhoseOffsetsRetentionDeletedFailsOrSkipsTheGap(t *testing.T) {
	for _, tc := range []struct {
		name, opt string
		fail      bool
	}{
		{name: "by default it fails naming stream, source, partition and offsets", fail: true},
		{name: "with fail_on_data_loss = false it skips to the earliest offset", opt: `, fail_on_data_loss = 'false'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrash("planned", 1)
			h := newHarness(t, c.config)
			h.mustExec(retainedSource)
			appendEach(h, "nums", ints(0, 5))
			h.mustExec(`CREATE STREAM s WITH (trigger = '1s'` + tc.opt + `) AS SELECT n FROM nums`)
			h.waitBatch("s", 0)
			appendEach(h, "nums", ints(5, 8))
			h.advance(time.Second)
			c.wait(t)
			// Batch 1 is planned as [5, 8); the stream restarts paused.
			h.mustExec(`PAUSE STREAM s`)
			catDir, dataDir := h.crashImage(c)

			r := newHarnessAt(t, catDir, dataDir)
			r.restore()
			r.waitIdle()
			appendEach(r, "nums", ints(8, 25))
			if e := earliest(t, r, "nums"); e != 15 {
				t.Fatalf("retention left the source from offset %d, want 15", e)
			}
			r.mustExec(`RESUME STREAM s`)
			if tc.fail {
				st := r.waitStatus("s", StatusFailed)
				wantCode(t, st.LastError, sqlerr.InvalidParameterValue)
				for _, part := range []string{`stream "s"`, `source "nums"`, `partition 0`, `[5, 8)`} {
					if !strings.Contains(st.LastError.Error(), part) {
						t.Errorf("the error %q does not name %s", st.LastError, part)
					}
				}
				equal(t, "the table", r.tableRows("s"), fmtInts(0, 5))
				return
			}
			// Batch 1 keeps its plan (the checkpoint has it) but finds
			// its rows gone; batch 2 reads from the earliest offset.
			r.waitBatch("s", 1)
			r.advance(time.Second)
			r.waitBatch("s", 2)
			var got []string
			for _, p := range r.progress("s") {
				got = append(got, fmt.Sprintf("%d: %s-%s in %d skipped %q", p.BatchID, p.StartOffsets, p.EndOffsets, p.InputRows, p.Skipped))
			}
			equal(t, "the batches after the restart", got, []string{
				`1: {0:5}-{0:8} in 0 skipped "0:[5,8)"`,
				`2: {0:15}-{0:25} in 10 skipped "0:[8,15)"`,
			})
			equal(t, "the table", r.tableRows("s"), fmtInts(0, 5, 15, 25))
		})
	}
}

// An aggregate replays the committed batches after its newest snapshot
// from its source: retention may have deleted their rows since.
func TestAReplayWhoseRowsRetentionDeletedFailsOrSkipsThem(t *testing.T) {
	for _, tc := range []struct {
		name, opt string
		fail      bool
	}{
		{name: "by default the recovery fails naming stream, source, partition and offsets", fail: true},
		{name: "with fail_on_data_loss = false the state goes without them", opt: `, fail_on_data_loss = 'false'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := func(from, to int64) [][]any {
				var out [][]any
				for i := from; i < to; i++ {
					out = append(out, []any{[]string{"a", "b"}[i%2], i})
				}
				return out
			}
			// No snapshot: recovery replays batches 0 to 2, offsets 0 to 9.
			c := newCrash("committed", 2)
			h := newHarness(t, c.config)
			h.mustExec(`CREATE SOURCE kv (k TEXT, n BIGINT) WITH (connector = 'log', retention = '10 rows', segment_bytes = '1')`)
			appendEach(h, "kv", rows(0, 3))
			h.mustExec(`CREATE STREAM s WITH (trigger = '1s'` + tc.opt + `) AS SELECT k, count(*) AS c FROM kv GROUP BY k`)
			h.waitBatch("s", 0)
			for b := int64(1); b <= 2; b++ {
				appendEach(h, "kv", rows(3*b, 3*b+3))
				h.advance(time.Second)
				if b < 2 {
					h.waitBatch("s", b)
				}
			}
			catDir, dataDir := h.crashImage(c)

			// Rows arrive, and retention deletes 0 to 10, before the
			// stream is restored.
			r := newHarnessAt(t, catDir, dataDir)
			objs := r.cat.Objects()
			if len(objs) != 2 || objs[0].Kind != "source" {
				t.Fatalf("stored objects %+v, want the source and the stream", objs)
			}
			if err := r.restoreObject(objs[0]); err != nil {
				t.Fatal(err)
			}
			appendEach(r, "kv", rows(9, 21))
			if e := earliest(t, r, "kv"); e != 11 {
				t.Fatalf("retention left the source from offset %d, want 11", e)
			}
			if err := r.restoreObject(objs[1]); err != nil {
				t.Fatal(err)
			}
			if tc.fail {
				st := r.status("s")
				if st.Status != StatusFailed {
					t.Fatalf("%s, want failed", st.Status)
				}
				wantCode(t, st.LastError, sqlerr.InvalidParameterValue)
				for _, part := range []string{`stream "s"`, `source "kv"`, `partition 0`, `[0, 3)`} {
					if !strings.Contains(st.LastError.Error(), part) {
						t.Errorf("the error %q does not name %s", st.LastError, part)
					}
				}
				equal(t, "the table", r.tableRows("s"), []string{"a | 5", "b | 4"})
				return
			}
			// The state starts empty; batch 3 skips 9 to 11 and counts
			// only what is left.
			r.waitBatch("s", 3)
			p := r.progress("s")
			if got := fmt.Sprintf("%d: %s-%s skipped %q", p[0].BatchID, p[0].StartOffsets, p[0].EndOffsets, p[0].Skipped); got != `3: {0:11}-{0:21} skipped "0:[9,11)"` {
				t.Errorf("the first batch after the restart: %s", got)
			}
			equal(t, "the table", r.tableRows("s"), []string{"a | 5", "b | 5"})
		})
	}
}

// fmtInts prints the integers of [from, to) ranges as tableRows prints a
// BIGINT column, sorted as strings.
func fmtInts(ranges ...int64) []string {
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		for n := ranges[i]; n < ranges[i+1]; n++ {
			out = append(out, fmt.Sprint(n))
		}
	}
	sortStrings(out)
	return out
}

// --- A checkpoint of another query ----------------------------------------

func TestAStreamRestoredOverTheCheckpointOfAnotherQueryShowsItFailed(t *testing.T) {
	c := newCrash("committed", 0)
	h := newHarness(t, c.config)
	h.mustExec(kvSource)
	h.appendRows("kv", kvBatch(0)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c FROM kv GROUP BY k`)
	catDir, dataDir := h.crashImage(c)

	// The stored definition now says another query, under the same name.
	r := newHarnessAt(t, catDir, dataDir)
	for _, o := range r.cat.Objects() {
		if o.Kind == "stream" {
			o.SQL = `CREATE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c FROM kv WHERE n > 0 GROUP BY k`
		}
		if err := r.restoreObject(o); err != nil {
			t.Fatalf("restore %s %s: %v", o.Kind, o.Name, err)
		}
	}
	st := r.status("s")
	if st.Status != StatusFailed {
		t.Fatalf("%s, want failed", st.Status)
	}
	wantCode(t, st.LastError, sqlerr.ObjectNotInPrerequisiteState)
	if !strings.Contains(st.LastError.Error(), "checkpoint was written for another query") {
		t.Errorf("error %q does not say the checkpoint is another query's", st.LastError)
	}
	// Nothing was touched: the sink keeps its rows, the checkpoint its
	// query; the stream does not run; DROP STREAM removes it all.
	equal(t, "the sink table", r.tableRows("s"), []string{"a | 2", "b | 1"})
	r.appendRows("kv", kvBatch(1)...)
	wantCode(t, r.exec(`RESUME STREAM s`), sqlerr.ObjectNotInPrerequisiteState)
	r.waitIdle()
	equal(t, "the sink table after RESUME", r.tableRows("s"), []string{"a | 2", "b | 1"})
	// Nor can a replacement take the checkpoint over.
	st2, err := r.bind(`CREATE OR REPLACE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c FROM kv WHERE n > 1 GROUP BY k`)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, r.m.ReplaceStream(r.ctx, specOf(st2.(*plan.CreateStream))), sqlerr.ObjectNotInPrerequisiteState)
	r.mustExec(`DROP STREAM s`)
	if _, err := os.Stat(r.m.checkpointDir("s")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the checkpoint directory is left after DROP STREAM: %v", err)
	}
	if _, err := r.cat.Table("s"); err == nil {
		t.Error("the sink table is left after DROP STREAM")
	}
}

// --- CREATE OR REPLACE, then a crash --------------------------------------

func TestAReplacedStreamRecoversWithItsOffsetsAndStateUnderTheNewQuery(t *testing.T) {
	const (
		before = `CREATE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c, sum(n) AS total FROM kv GROUP BY k`
		after  = `CREATE OR REPLACE STREAM s WITH (trigger = '1s') AS
			SELECT k, count(*) AS c, sum(n) AS total FROM kv WHERE n % 2 = 0 GROUP BY k`
	)
	// run feeds batches 0 to 4, replacing the query after batch 1, and
	// stops at crashAt (-1: never).
	run := func(h *harness, crashAt int64) {
		h.mustExec(kvSource)
		h.appendRows("kv", kvBatch(0)...)
		h.mustExec(before)
		h.waitBatch("s", 0)
		for i := int64(1); i <= 4; i++ {
			if i == 2 {
				h.replace(after)
				h.waitIdle() // the new loop has looked, found nothing
			}
			h.appendRows("kv", kvBatch(i)...)
			h.advance(time.Second)
			if i == crashAt {
				return
			}
			h.waitBatch("s", i)
		}
	}
	h := newHarness(t, everyTwo)
	run(h, -1)
	want := h.tableRows("s")
	wantProg := h.progress("s")
	h.finish()

	for _, cr := range []struct {
		point string
		batch int64
	}{{"planned", 2}, {"sunk", 2}, {"planned", 3}, {"sunk", 3}, {"committed", 3}, {"snapshot", 3}} {
		t.Run(fmt.Sprintf("a crash at %s of batch %d", cr.point, cr.batch), func(t *testing.T) {
			c := newCrash(cr.point, cr.batch)
			h := newHarness(t, everyTwo, c.config)
			run(h, cr.batch)
			catDir, dataDir := h.crashImage(c)

			r := newHarnessAt(t, catDir, dataDir, everyTwo)
			r.restore()
			if o := object(r, "stream", "s"); o.SQL != after {
				t.Fatalf("stored definition %q, want the replacement", o.SQL)
			}
			r.waitBatch("s", cr.batch)
			r.waitIdle()
			for i := cr.batch + 1; i <= 4; i++ {
				r.appendRows("kv", kvBatch(i)...)
				r.advance(time.Second)
				r.waitBatch("s", i)
			}
			equal(t, "the sink table", r.tableRows("s"), want)
			p := r.progress("s")
			last := p[len(p)-1]
			if last.BatchID != 4 || !offsetsEqual(last.StartOffsets, wantProg[4].StartOffsets) || last.InputRows != 3 {
				t.Errorf("batch 4 after the restart: %d from %s with %d rows, want 4 from %s with 3",
					last.BatchID, last.StartOffsets, last.InputRows, wantProg[4].StartOffsets)
			}
		})
	}
}

func offsetsEqual(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCreateOrReplaceOfAStreamWhoseStateHoldsAFailedBatchIsRefused(t *testing.T) {
	h := newHarness(t)
	h.mustExec(kvSource)
	h.appendRows("kv", kvBatch(0)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c FROM kv GROUP BY k`)
	h.waitBatch("s", 0)
	def := mustTable(t, h, "s").Def()

	// Batch 1 folds its rows into the state, then its sink fails.
	if err := h.cat.DropTable(h.ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	h.appendRows("kv", kvBatch(1)...)
	h.advance(time.Second)
	h.waitStatus("s", StatusFailed)
	if err := h.cat.CreateTable(h.ctx, def, false); err != nil {
		t.Fatal(err)
	}

	// A compatible replacement would take over that state and run batch
	// 1 again over it, counting its rows twice (a | 4, b | 2).
	st, err := h.bind(`CREATE OR REPLACE STREAM s WITH (trigger = '1s') AS SELECT k, count(*) AS c FROM kv WHERE n >= 0 GROUP BY k`)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.m.ReplaceStream(h.ctx, specOf(st.(*plan.CreateStream))), sqlerr.ObjectNotInPrerequisiteState)
	h.advance(time.Second)
	h.waitIdle()
	if st := h.status("s"); st.Status != StatusFailed || st.LastBatch != 0 {
		t.Errorf("after the refused replacement: %s at batch %d, want failed at 0", st.Status, st.LastBatch)
	}
	if got := h.tableRows("s"); len(got) != 0 {
		t.Errorf("the table got %v, want nothing", got)
	}
	if o := object(h, "stream", "s"); strings.Contains(o.SQL, "REPLACE") {
		t.Errorf("the replacement was stored: %q", o.SQL)
	}
}
