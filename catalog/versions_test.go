package catalog

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"weak"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// setQty is a statement that sets qty of the user with the given id.
func setQty(id, qty int64) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		o, ok := cur.Lookup([]any{id})
		if !ok {
			return sqlerr.New(sqlerr.InternalError, "no user %d", id)
		}
		row := cur.Row(o)
		if err := w.Delete(o); err != nil {
			return err
		}
		row[2] = qty
		return w.Insert(row)
	}
}

// versionNumbers returns the numbers of the retained versions and which
// are pinned.
func versionNumbers(tbl *Table) (versions []uint64, pinned []uint64) {
	for _, v := range tbl.Versions() {
		versions = append(versions, v.Version)
		if v.Pinned {
			pinned = append(pinned, v.Version)
		}
	}
	return versions, pinned
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// qtyAt returns qty of user 1 in version v.
func qtyAt(t *testing.T, tbl *Table, v uint64) int64 {
	t.Helper()
	s, err := tbl.SnapshotAt(v)
	if err != nil {
		t.Fatalf("SnapshotAt(%d): %v", v, err)
	}
	if s.Version() != v && v != 0 {
		t.Fatalf("SnapshotAt(%d) returned version %d", v, s.Version())
	}
	o, ok := s.Lookup([]any{int64(1)})
	if !ok {
		t.Fatalf("version %d has no user 1", v)
	}
	return s.Row(o)[2].(int64)
}

func TestTableRetainsItsLastVersions(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 3})
	users := mustCreate(t, c, usersDef())
	if got, _ := versionNumbers(users); !equalU64(got, []uint64{1}) {
		t.Fatalf("right after CREATE TABLE: versions %v, want [1]", got)
	}
	mustWrite(t, users, insert([]any{int64(1), "a", int64(10)}, []any{int64(2), "b", int64(20)})) // v2
	for q := int64(11); q <= 14; q++ {
		mustWrite(t, users, setQty(1, q)) // v3..v6
	}
	got, pinned := versionNumbers(users)
	if !equalU64(got, []uint64{4, 5, 6}) || len(pinned) != 0 {
		t.Fatalf("versions %v (pinned %v), want [4 5 6] and none pinned", got, pinned)
	}
	vs := users.Versions()
	for i, v := range vs {
		s, err := users.SnapshotAt(v.Version)
		if err != nil {
			t.Fatalf("SnapshotAt(%d): %v", v.Version, err)
		}
		if v.Rows != 2 || !v.CommittedAt.Equal(s.CommittedAt()) {
			t.Errorf("version %d: rows %d committed %v, want 2 rows committed %v", v.Version, v.Rows, v.CommittedAt, s.CommittedAt())
		}
		if i > 0 && v.CommittedAt.Before(vs[i-1].CommittedAt) {
			t.Errorf("version %d was committed before version %d", v.Version, vs[i-1].Version)
		}
	}
	for v, want := range map[uint64]int64{4: 12, 5: 13, 6: 14, 0: 14} {
		if got := qtyAt(t, users, v); got != want {
			t.Errorf("qty at version %d = %d, want %d", v, got, want)
		}
	}
	if s, _ := users.SnapshotAt(0); s != users.Snapshot() {
		t.Error("SnapshotAt(0) is not the latest snapshot")
	}
	// A statement that changes nothing commits no version.
	mustWrite(t, users, func(*Snapshot, *Writer) error { return nil })
	if got, _ := versionNumbers(users); !equalU64(got, []uint64{4, 5, 6}) {
		t.Errorf("after an empty statement: versions %v, want [4 5 6]", got)
	}
}

func TestSnapshotAtRefusesVersionsNotRetained(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 2})
	users := mustCreate(t, c, usersDef())
	mustWrite(t, users, insert([]any{int64(1), "a", int64(10)})) // v2
	mustWrite(t, users, setQty(1, 11))                           // v3
	mustWrite(t, users, setQty(1, 12))                           // v4
	tests := []struct {
		name    string
		version uint64
		msg     string
	}{
		{"a version pushed out of the window names the oldest retained one", 2,
			`version 2 of table "users" is no longer retained: the oldest retained version is 3`},
		{"the first version is gone too", 1,
			`version 1 of table "users" is no longer retained: the oldest retained version is 3`},
		{"a version not committed yet names the latest", 5,
			`table "users" has no version 5: its latest version is 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := users.SnapshotAt(tt.version)
			wantCode(t, err, sqlerr.InvalidParameterValue, tt.msg)
			_, _, err = users.Pin(tt.version)
			wantCode(t, err, sqlerr.InvalidParameterValue, tt.msg)
		})
	}
}

func TestAPinnedVersionOutlivesTheRetentionWindow(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 2})
	users := mustCreate(t, c, usersDef())
	mustWrite(t, users, insert([]any{int64(1), "a", int64(10)})) // v2
	snap, release, err := users.Pin(0)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version() != 2 {
		t.Fatalf("Pin(0) pinned version %d, want the latest, 2", snap.Version())
	}
	_, release2, err := users.Pin(2) // a second pin of the same version
	if err != nil {
		t.Fatal(err)
	}
	for q := int64(11); q <= 15; q++ {
		mustWrite(t, users, setQty(1, q)) // v3..v7
	}
	if got, pinned := versionNumbers(users); !equalU64(got, []uint64{2, 6, 7}) || !equalU64(pinned, []uint64{2}) {
		t.Fatalf("versions %v (pinned %v), want [2 6 7] with 2 pinned", got, pinned)
	}
	if got := qtyAt(t, users, 2); got != 10 {
		t.Fatalf("pinned version 2 reads qty %d, want 10", got)
	}
	if _, err := users.SnapshotAt(3); sqlerr.Code(err) != sqlerr.InvalidParameterValue {
		t.Fatalf("SnapshotAt(3) between the pinned version and the window: %v, want 22023", err)
	}

	release()
	release() // a second call of the same release does nothing
	if got, pinned := versionNumbers(users); !equalU64(got, []uint64{2, 6, 7}) || !equalU64(pinned, []uint64{2}) {
		t.Fatalf("with one of two pins released: versions %v (pinned %v), want [2 6 7] with 2 pinned", got, pinned)
	}
	release2()
	if got, pinned := versionNumbers(users); !equalU64(got, []uint64{6, 7}) || len(pinned) != 0 {
		t.Fatalf("with every pin released: versions %v (pinned %v), want [6 7]", got, pinned)
	}
	_, err = users.SnapshotAt(2)
	wantCode(t, err, sqlerr.InvalidParameterValue, `version 2 of table "users" is no longer retained: the oldest retained version is 6`)
	if snap.NumRows() != 1 || snap.Row(0)[2] != int64(10) {
		t.Fatalf("a snapshot held after its release changed: %v", rowsOf(snap))
	}
}

func TestAVersionReleasedInsideTheWindowStaysUntilPushedOut(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 3})
	users := mustCreate(t, c, usersDef())
	_, release, err := users.Pin(1)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, users, insert([]any{int64(1), "a", int64(10)})) // v2
	release()
	if got, _ := versionNumbers(users); !equalU64(got, []uint64{1, 2}) {
		t.Fatalf("versions %v, want [1 2]", got)
	}
	mustWrite(t, users, setQty(1, 11)) // v3
	mustWrite(t, users, setQty(1, 12)) // v4
	if got, _ := versionNumbers(users); !equalU64(got, []uint64{2, 3, 4}) {
		t.Fatalf("versions %v, want [2 3 4]", got)
	}
}

func TestARestartRetainsOnlyTheLatestVersion(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir)
	users := mustCreate(t, c, usersDef())
	mustWrite(t, users, insert([]any{int64(1), "a", int64(10)})) // v2
	mustWrite(t, users, setQty(1, 11))                           // v3
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openT(t, dir)
	users, err := c.Table("users")
	if err != nil {
		t.Fatal(err)
	}
	vs := users.Versions()
	if len(vs) != 1 || vs[0].Version != 3 || vs[0].Rows != 1 || vs[0].Pinned {
		t.Fatalf("after a restart: versions %+v, want only version 3 with 1 row", vs)
	}
	_, err = users.SnapshotAt(2)
	wantCode(t, err, sqlerr.InvalidParameterValue, `version 2 of table "users" is no longer retained: the oldest retained version is 3`)
}

func TestRetainVersionsMustNotBeNegative(t *testing.T) {
	err := Options{RetainVersions: -1}.Validate()
	wantCode(t, err, sqlerr.InvalidParameterValue, "catalog: RetainVersions must not be negative")
}

// bufferSet tracks Arrow buffers weakly, to tell which ones are still
// reachable after a garbage collection.
type bufferSet map[weak.Pointer[memory.Buffer]]bool

// add tracks every buffer of every chunk of s.
func (b bufferSet) add(s *Snapshot) {
	for _, c := range s.chunks {
		for _, col := range c.rec.Columns() {
			for _, buf := range col.Data().Buffers() {
				if buf != nil {
					b[weak.Make(buf)] = true
				}
			}
		}
	}
}

// live returns the tracked buffers still reachable.
func (b bufferSet) live() bufferSet {
	runtime.GC()
	runtime.GC()
	out := bufferSet{}
	for p := range b {
		if p.Value() != nil {
			out[p] = true
		}
	}
	return out
}

// retainedBuffers returns the buffers of the versions tbl retains.
func retainedBuffers(t *testing.T, tbl *Table) bufferSet {
	t.Helper()
	out := bufferSet{}
	for _, v := range tbl.Versions() {
		s, err := tbl.SnapshotAt(v.Version)
		if err != nil {
			t.Fatal(err)
		}
		out.add(s)
	}
	return out
}

// checkOnlyRetainedLive fails if a tracked buffer that no retained version
// refers to is still reachable, and returns how many are live.
func checkOnlyRetainedLive(t *testing.T, tbl *Table, tracked bufferSet) int {
	t.Helper()
	keep := retainedBuffers(t, tbl)
	live := tracked.live()
	for p := range live {
		if !keep[p] {
			t.Errorf("a buffer of a version no longer retained is still reachable (%d of %d tracked buffers live, %d retained)",
				len(live), len(tracked), len(keep))
			break
		}
	}
	return len(live)
}

func TestVersionsOutsideTheWindowAreFreed(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 2, ChunkRows: 8, NoAutoCheckpoint: true})
	users := mustCreate(t, c, usersDef())
	var rows [][]any
	for id := range int64(64) {
		rows = append(rows, []any{id, "u", id})
	}
	mustWrite(t, users, insert(rows...)) // v2: 8 chunks
	tracked := bufferSet{}
	tracked.add(users.Snapshot())

	// Pin version 2, then rewrite a row of every chunk, one per
	// statement: each version gets a new qty column in one chunk.
	_, release, err := users.Pin(2)
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(0); id < 64; id += 8 {
		tracked.add(mustWrite(t, users, setQty(id, -id)))
	}
	if got, _ := versionNumbers(users); !equalU64(got, []uint64{2, 9, 10}) {
		t.Fatalf("versions %v, want [2 9 10]", got)
	}
	pinnedLive := checkOnlyRetainedLive(t, users, tracked)

	release()
	unpinnedLive := checkOnlyRetainedLive(t, users, tracked)
	if unpinnedLive >= pinnedLive {
		t.Errorf("releasing the pin of version 2 freed nothing: %d buffers live before, %d after", pinnedLive, unpinnedLive)
	}
}

func TestPinsAndWritesRaceSafely(t *testing.T) {
	c := openT(t, t.TempDir(), Options{RetainVersions: 4})
	users := mustCreate(t, c, usersDef())
	mustWrite(t, users, insert([]any{int64(1), "a", int64(0)}))
	ctx := context.Background()
	var wg sync.WaitGroup
	const writes = 50
	for w := range 2 {
		wg.Go(func() {
			for i := range writes {
				if _, err := users.Write(ctx, setQty(1, int64(w*writes+i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range writes {
				s, release, err := users.Pin(0)
				if err != nil {
					t.Error(err)
					return
				}
				if again, err := users.SnapshotAt(s.Version()); err != nil || again != s {
					t.Errorf("a pinned version is not readable: %v", err)
				}
				_ = users.Versions()
				release()
			}
		})
	}
	wg.Wait()
	got, pinned := versionNumbers(users)
	want := []uint64{2 + 2*writes - 3, 2 + 2*writes - 2, 2 + 2*writes - 1, 2 + 2*writes}
	if !equalU64(got, want) || len(pinned) != 0 {
		t.Fatalf("versions %v (pinned %v), want %v and none pinned", got, pinned, want)
	}
}
