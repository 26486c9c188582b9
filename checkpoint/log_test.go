package checkpoint

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestPlansAndCommitsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	d := open(t, t.TempDir())
	if _, ok := d.LastPlan(); ok || d.LastCommitted() != -1 {
		t.Fatalf("a new directory has a plan or a commit")
	}
	runBatches(t, d, 4)
	if err := d.WritePlan(ctx, testPlan(5)); err != nil {
		t.Fatal(err)
	}

	d = reopen(t, d)
	if got := d.LastCommitted(); got != 4 {
		t.Fatalf("got last committed %d, want 4", got)
	}
	last, ok := d.LastPlan()
	if !ok {
		t.Fatal("no last plan after reopen")
	}
	samePlans(t, last, testPlan(5))
	for b := int64(0); b <= 5; b++ {
		p, ok := d.PlanOf(b)
		if !ok {
			t.Fatalf("plan of batch %d is missing", b)
		}
		samePlans(t, p, testPlan(b))
	}
	if _, ok := d.PlanOf(6); ok {
		t.Fatal("PlanOf(6) found a plan never written")
	}
	if got := len(d.Plans()); got != 6 {
		t.Fatalf("got %d plans, want 6", got)
	}
	if r := d.Recovery(); r != (Recovery{}) {
		t.Fatalf("a clean reopen reports repairs: %+v", r)
	}

	// The uncommitted batch re-runs, commits, and the next one follows.
	if err := d.WritePlan(ctx, testPlan(5)); err != nil {
		t.Fatalf("re-planning the uncommitted batch identically: %v", err)
	}
	if err := d.Commit(ctx, 5); err != nil {
		t.Fatal(err)
	}
	runBatches(t, d, 6)
	d = reopen(t, d)
	if got := d.LastCommitted(); got != 6 {
		t.Fatalf("got last committed %d, want 6", got)
	}
}

func TestPlansReturnedAreCopies(t *testing.T) {
	d := open(t, t.TempDir())
	runBatches(t, d, 0)
	p, _ := d.LastPlan()
	p.End[0] = 999
	p.Versions["rules"] = 999
	q, _ := d.PlanOf(0)
	samePlans(t, q, testPlan(0))
}

func TestBatchRules(t *testing.T) {
	ctx := context.Background()
	different := testPlan(3)
	different.End[0]++
	noWatermark := testPlan(2)
	noWatermark.HasWatermark = false
	backwards := testPlan(3)
	backwards.Start[1] = backwards.End[1] + 1
	onlyEnd := testPlan(3)
	delete(onlyEnd.Start, 1)
	onlyEnd.Start[2] = 0

	tests := []struct {
		name      string
		committed int64 // batches 0..committed are planned and committed
		planned   bool  // and batch committed+1 is planned
		plan      *Plan
		commit    int64
		code      string
		is        error
	}{
		{name: "the first batch is 0", committed: -1, plan: ptr(testPlan(0))},
		{name: "the first batch cannot be 1", committed: -1, plan: ptr(testPlan(1)), code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "the next batch follows the last committed one", committed: 2, plan: ptr(testPlan(3))},
		{name: "a gap in batch numbers is refused", committed: 2, plan: ptr(testPlan(4)), code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "a committed batch cannot be planned again", committed: 2, plan: ptr(testPlan(2)), code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "an older batch cannot be planned again", committed: 2, plan: ptr(testPlan(1)), code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "the next batch waits for the uncommitted one", committed: 2, planned: true, plan: ptr(testPlan(4)), code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "an uncommitted batch may be planned again identically", committed: 2, planned: true, plan: ptr(testPlan(3))},
		{name: "an uncommitted batch cannot be planned with other offsets", committed: 2, planned: true, plan: &different, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrPlanConflict},
		{name: "an uncommitted batch cannot be planned without its watermark", committed: 1, planned: true, plan: &noWatermark, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrPlanConflict},
		{name: "a plan whose start is after its end is refused", committed: 2, plan: &backwards, code: sqlerr.InvalidParameterValue},
		{name: "a plan whose partitions differ is refused", committed: 2, plan: &onlyEnd, code: sqlerr.InvalidParameterValue},
		{name: "the planned batch commits", committed: 2, planned: true, commit: 3},
		{name: "a batch never planned cannot commit", committed: 2, commit: 3, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "a batch past the planned one cannot commit", committed: 2, planned: true, commit: 4, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "a batch cannot commit twice", committed: 2, commit: 2, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
		{name: "nothing commits in a new directory", committed: -1, commit: 0, code: sqlerr.ObjectNotInPrerequisiteState, is: ErrBatchOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := open(t, t.TempDir())
			runBatches(t, d, tc.committed)
			if tc.planned {
				if err := d.WritePlan(ctx, testPlan(tc.committed+1)); err != nil {
					t.Fatal(err)
				}
			}
			// Rules hold the same after a restart.
			d = reopen(t, d)
			sizeBefore := fileSize(t, filepath.Join(d.Path(), offsetsName)) + fileSize(t, filepath.Join(d.Path(), commitsName))
			wantPlan, hadPlan := d.LastPlan()
			wantCommitted := d.LastCommitted()
			var err error
			if tc.plan != nil {
				err = d.WritePlan(ctx, *tc.plan)
			} else {
				err = d.Commit(ctx, tc.commit)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if tc.plan != nil && tc.planned {
					// An identical re-plan writes nothing.
					if got := fileSize(t, filepath.Join(d.Path(), offsetsName)) + fileSize(t, filepath.Join(d.Path(), commitsName)); got != sizeBefore {
						t.Fatalf("re-planning an identical batch changed the logs from %d to %d bytes", sizeBefore, got)
					}
				}
				return
			}
			wantCode(t, err, tc.code)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
			// A refused call changes nothing, in memory or on disk.
			d = reopen(t, d)
			gotPlan, hasPlan := d.LastPlan()
			if hasPlan != hadPlan || (hasPlan && !gotPlan.SameAs(wantPlan)) || d.LastCommitted() != wantCommitted {
				t.Fatalf("a refused call changed the checkpoint: last plan %v, committed %d", gotPlan, d.LastCommitted())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// tornCase builds a reference checkpoint whose named log's last record is
// the one to damage, and checks a damaged copy recovers to the record
// before it and accepts the lost record again.
type tornCase struct {
	log string
	// build leaves the reference with batches 0..2 committed and, for the
	// offsets log, batch 3 planned: the last record of log is the one
	// batch (3 for offsets, 2 for commits) the damage loses.
	build func(t *testing.T, d *Dir)
	// check verifies the recovered state and redoes the lost record.
	check func(t *testing.T, d *Dir)
}

var tornCases = []tornCase{
	{
		log: offsetsName,
		build: func(t *testing.T, d *Dir) {
			runBatches(t, d, 2)
			if err := d.WritePlan(context.Background(), testPlan(3)); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, d *Dir) {
			if p, _ := d.LastPlan(); p.Batch != 2 || d.LastCommitted() != 2 {
				t.Fatalf("recovered last plan %d, committed %d; want 2, 2", p.Batch, d.LastCommitted())
			}
			if err := d.WritePlan(context.Background(), testPlan(3)); err != nil {
				t.Fatalf("planning batch 3 again: %v", err)
			}
			if err := d.Commit(context.Background(), 3); err != nil {
				t.Fatal(err)
			}
		},
	},
	{
		log:   commitsName,
		build: func(t *testing.T, d *Dir) { runBatches(t, d, 2) },
		check: func(t *testing.T, d *Dir) {
			if p, _ := d.LastPlan(); p.Batch != 2 || d.LastCommitted() != 1 {
				t.Fatalf("recovered last plan %d, committed %d; want 2, 1", p.Batch, d.LastCommitted())
			}
			if err := d.WritePlan(context.Background(), testPlan(2)); err != nil {
				t.Fatalf("re-planning the uncommitted batch 2: %v", err)
			}
			if err := d.Commit(context.Background(), 2); err != nil {
				t.Fatalf("committing batch 2 again: %v", err)
			}
			if err := d.WritePlan(context.Background(), testPlan(3)); err != nil {
				t.Fatal(err)
			}
			if err := d.Commit(context.Background(), 3); err != nil {
				t.Fatal(err)
			}
		},
	},
}

// recoverDamaged copies ref, lets damage change the copy's log, opens it,
// runs c.check and verifies that the redone records survive a reopen.
func recoverDamaged(t *testing.T, ref string, c tornCase, damage func(data []byte) []byte, wantCut bool) {
	t.Helper()
	dir := copyDir(t, ref)
	path := filepath.Join(dir, c.log)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, damage(data))
	d, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open after damage: %v", err)
	}
	defer func() { _ = d.Close() }()
	r := d.Recovery()
	cut := r.OffsetsCut + r.CommitsCut
	if wantCut != (cut > 0) {
		t.Fatalf("recovery cut %d bytes (%+v), want a cut: %v", cut, r, wantCut)
	}
	c.check(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("reopen after appends: %v", err)
	}
	defer func() { _ = d2.Close() }()
	if d2.LastCommitted() != 3 || d2.Recovery() != (Recovery{}) {
		t.Fatalf("after redoing the lost record and reopening: committed %d, recovery %+v", d2.LastCommitted(), d2.Recovery())
	}
}

func TestTornLastRecordIsCut(t *testing.T) {
	for _, c := range tornCases {
		t.Run(c.log, func(t *testing.T) {
			ref := t.TempDir()
			d := open(t, ref)
			c.build(t, d)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			starts, data := frameStarts(t, filepath.Join(ref, c.log))
			last := starts[len(starts)-1]

			t.Run("truncated at every byte of the last record", func(t *testing.T) {
				for n := last; n < len(data); n++ {
					recoverDamaged(t, ref, c, func(b []byte) []byte { return b[:n] }, n > last)
				}
			})
			t.Run("one byte of the last record flipped", func(t *testing.T) {
				for i := last; i < len(data); i++ {
					recoverDamaged(t, ref, c, func(b []byte) []byte { b[i] ^= 0x40; return b }, true)
				}
			})
			t.Run("the last record's tail zeroed", func(t *testing.T) {
				recoverDamaged(t, ref, c, func(b []byte) []byte { clear(b[last+frameHeader+2:]); return b }, true)
			})
		})
	}
}

func TestGarbageAfterTheLastRecordIsCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range tornCases {
		t.Run(c.log, func(t *testing.T) {
			ref := t.TempDir()
			d := open(t, ref)
			c.build(t, d)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			// Drop the last record so check can redo it.
			starts, data := frameStarts(t, filepath.Join(ref, c.log))
			writeFile(t, filepath.Join(ref, c.log), data[:starts[len(starts)-1]])
			garbage := [][]byte{
				make([]byte, 1),
				make([]byte, 4096), // zeros, as a file system may leave after a crash
				{0xff, 0xff, 0xff, 0x7f, 1, 2, 3},
				{5, 0, 0, 0, 1, 2, 3, 4, 'x', 'y', 'z'}, // a length that fits, a wrong CRC
			}
			for range 20 {
				g := make([]byte, 1+rng.IntN(300))
				for i := range g {
					g[i] = byte(rng.UintN(256))
				}
				garbage = append(garbage, g)
			}
			for _, g := range garbage {
				recoverDamaged(t, ref, c, func(b []byte) []byte { return append(b, g...) }, true)
			}
		})
	}
}

func TestDamageBeforeTheLastRecordIsCorruption(t *testing.T) {
	for _, log := range []string{offsetsName, commitsName} {
		t.Run(log, func(t *testing.T) {
			ref := t.TempDir()
			d := open(t, ref)
			runBatches(t, d, 3)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			starts, data := frameStarts(t, filepath.Join(ref, log))
			// Every byte of the header and of the first two records.
			for i := 0; i < starts[2]; i++ {
				dir := copyDir(t, ref)
				b := append([]byte(nil), data...)
				b[i] ^= 0x01
				writeFile(t, filepath.Join(dir, log), b)
				_, err := Open(context.Background(), dir)
				wantCode(t, err, sqlerr.DataCorrupted)
				// The scan itself must see the damage, not only the
				// check that the two logs agree.
				if i >= magicLen && !errors.Is(err, errDamaged) {
					t.Fatalf("byte %d flipped: %v is not reported as damage before a valid record", i, err)
				}
			}
			// A middle record cut out entirely leaves a gap in batches.
			dir := copyDir(t, ref)
			writeFile(t, filepath.Join(dir, log), append(append([]byte(nil), data[:starts[1]]...), data[starts[2]:]...))
			_, err := Open(context.Background(), dir)
			wantCode(t, err, sqlerr.DataCorrupted)
		})
	}
}

func TestRecordsThatDecodeBadlyAreCorruption(t *testing.T) {
	tests := []struct {
		name string
		log  string
		body string
	}{
		{"a last plan that is not JSON", offsetsName, "not json"},
		{"a last plan that repeats a batch", offsetsName, `{"batch":1,"start":{},"end":{},"planned_at_unix_nano":0}`},
		{"a last plan with a negative batch", offsetsName, `{"batch":-1,"start":{},"end":{},"planned_at_unix_nano":0}`},
		{"a last commit that is not JSON", commitsName, "{"},
		{"a last commit of a batch never planned", commitsName, `{"batch":3,"committed_at_unix_nano":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d := open(t, dir)
			runBatches(t, d, 1)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.log)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, appendFrame(data, []byte(tc.body)))
			_, err = Open(context.Background(), dir)
			wantCode(t, err, sqlerr.DataCorrupted)
		})
	}
}

func TestLogsThatDisagreeAreCorruption(t *testing.T) {
	t.Run("a commit log ahead of the offsets log", func(t *testing.T) {
		short, long := t.TempDir(), t.TempDir()
		d := open(t, short)
		runBatches(t, d, 1)
		_ = d.Close()
		d = open(t, long)
		runBatches(t, d, 3)
		_ = d.Close()
		data, err := os.ReadFile(filepath.Join(long, commitsName))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(short, commitsName), data)
		_, err = Open(context.Background(), short)
		wantCode(t, err, sqlerr.DataCorrupted)
	})
	t.Run("a missing commit log under two planned batches", func(t *testing.T) {
		dir := t.TempDir()
		d := open(t, dir)
		runBatches(t, d, 1)
		_ = d.Close()
		if err := os.Remove(filepath.Join(dir, commitsName)); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), dir)
		wantCode(t, err, sqlerr.DataCorrupted)
	})
	t.Run("a log with the wrong header", func(t *testing.T) {
		dir := t.TempDir()
		d := open(t, dir)
		runBatches(t, d, 1)
		_ = d.Close()
		data, err := os.ReadFile(filepath.Join(dir, commitsName))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, offsetsName), data)
		_, err = Open(context.Background(), dir)
		wantCode(t, err, sqlerr.DataCorrupted)
	})
}

func TestClosedAndCancelled(t *testing.T) {
	d := open(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantCode(t, d.WritePlan(ctx, testPlan(0)), sqlerr.QueryCanceled)
	runBatches(t, d, 0)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantCode(t, d.WritePlan(context.Background(), testPlan(1)), sqlerr.ObjectNotInPrerequisiteState)
	if d.LastCommitted() != 0 {
		t.Fatal("readers stop working after Close")
	}
}

func TestOneDirPerPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stream")
	d := open(t, path)
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("a second Open of an open directory succeeded")
	}
	if err := Remove(path); err == nil {
		t.Fatal("Remove of an open directory succeeded")
	}
	runBatches(t, d, 0)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if exists(path) {
		t.Fatal("Remove left the directory")
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove of a missing directory: %v", err)
	}
	d = open(t, path)
	if d.LastCommitted() != -1 {
		t.Fatal("a removed checkpoint came back")
	}
}

func TestScanFrames(t *testing.T) {
	a := appendFrame(nil, []byte(`{"batch":0}`))
	b := appendFrame(nil, []byte(`{"batch":1}`))
	join := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	flip := func(f []byte, i int) []byte {
		f = append([]byte(nil), f...)
		f[i] ^= 0x80
		return f
	}
	tests := []struct {
		name    string
		data    []byte
		records int
		valid   int
		damaged bool
	}{
		{"an empty log", nil, 0, 0, false},
		{"two whole records", join(a, b), 2, len(a) + len(b), false},
		{"a short header at the tail", join(a, b[:5]), 1, len(a), false},
		{"a length past the end at the tail", join(a, b[:len(b)-1]), 1, len(a), false},
		{"a bad checksum at the tail", join(a, flip(b, 9)), 1, len(a), false},
		{"a zero length at the tail", join(a, make([]byte, 12)), 1, len(a), false},
		{"a bad checksum before a valid record", join(flip(a, 9), b), 0, 0, true},
		{"a bad length before a valid record", join(flip(a, 1), b), 0, 0, true},
		{"garbage before a valid record", join(a, []byte{1, 2, 3}, b), 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bodies, valid, err := scanFrames(tc.data)
			if tc.damaged {
				if !errors.Is(err, errDamaged) {
					t.Fatalf("got %v, want damage", err)
				}
				return
			}
			if err != nil || len(bodies) != tc.records || valid != tc.valid {
				t.Fatalf("got %d records, %d valid bytes, %v; want %d, %d, nil", len(bodies), valid, err, tc.records, tc.valid)
			}
		})
	}
}
