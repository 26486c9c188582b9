package checkpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func open(t testing.TB, path string) *Dir {
	t.Helper()
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func reopen(t testing.TB, d *Dir) *Dir {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return open(t, d.Path())
}

// testPlan returns a plan for batch reading rows [10*batch, 10*batch+10) of
// partitions 0 and 1 and pinning version batch/3+1 of table rules.
func testPlan(batch int64) Plan {
	return Plan{
		Batch:        batch,
		Start:        map[int32]int64{0: 10 * batch, 1: 10 * batch},
		End:          map[int32]int64{0: 10*batch + 10, 1: 10*batch + 7},
		Versions:     map[string]uint64{"rules": uint64(batch/3 + 1)},
		Watermark:    1_700_000_000_000_000 + batch,
		HasWatermark: batch%2 == 0,
		PlannedAt:    time.Date(2026, 4, 1, 12, 0, 0, int(batch), time.UTC),
	}
}

// runBatches plans and commits batches from LastPlan+1 through last.
func runBatches(t testing.TB, d *Dir, last int64) {
	t.Helper()
	ctx := context.Background()
	for b := d.LastCommitted() + 1; b <= last; b++ {
		if err := d.WritePlan(ctx, testPlan(b)); err != nil {
			t.Fatalf("WritePlan(%d): %v", b, err)
		}
		if err := d.Commit(ctx, b); err != nil {
			t.Fatalf("Commit(%d): %v", b, err)
		}
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	if got := sqlerr.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
}

func samePlans(t testing.TB, got, want Plan) {
	t.Helper()
	if !got.SameAs(want) || !got.PlannedAt.Equal(want.PlannedAt) {
		t.Fatalf("got plan %s planned at %s, want %s planned at %s", got, got.PlannedAt, want, want.PlannedAt)
	}
}

// frameStarts returns the byte offsets of the records in a log file,
// parsed independently of the package's scanner, and the file's data.
func frameStarts(t testing.TB, path string) ([]int, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for off := magicLen; off < len(data); {
		starts = append(starts, off)
		off += frameHeader + int(binary.LittleEndian.Uint32(data[off:]))
	}
	return starts, data
}

// copyDir copies the regular files of src (not LOCK) into a new directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == lockName || e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		_ = in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

var stateSchema = arrow.NewSchema([]arrow.Field{
	{Name: "key", Type: arrow.PrimitiveTypes.Int64},
	{Name: "sum", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "count", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// stateRecords builds records of stateSchema holding rows [from, from+n)
// in records of at most chunk rows; every 7th sum and 11th name is null.
func stateRecords(mem memory.Allocator, from, n, chunk int) []arrow.Record {
	var recs []arrow.Record
	b := array.NewRecordBuilder(mem, stateSchema)
	defer b.Release()
	for start := from; start < from+n; start += chunk {
		end := min(start+chunk, from+n)
		keys := b.Field(0).(*array.Int64Builder)
		sums := b.Field(1).(*array.Float64Builder)
		names := b.Field(2).(*array.StringBuilder)
		counts := b.Field(3).(*array.Int64Builder)
		for i := start; i < end; i++ {
			keys.Append(int64(i))
			if i%7 == 0 {
				sums.AppendNull()
			} else {
				sums.Append(float64(i) * 1.5)
			}
			if i%11 == 0 {
				names.AppendNull()
			} else {
				names.Append(fmt.Sprintf("name-%d", i))
			}
			counts.Append(int64(i % 1000))
		}
		recs = append(recs, b.NewRecord())
	}
	return recs
}

func release(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func sameRecords(t testing.TB, got, want []arrow.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !array.RecordEqual(got[i], want[i]) {
			t.Fatalf("record %d differs:\ngot  %v\nwant %v", i, got[i], want[i])
		}
	}
}
