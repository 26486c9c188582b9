package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
)

// checkedAlloc returns an allocator that fails the test if any of its
// memory is still allocated when the test ends.
func checkedAlloc(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// rows converts records to Go values (expr.ValueAt), row by row.
func rows(recs []arrow.Record) [][]any {
	var out [][]any
	for _, rec := range recs {
		for r := range int(rec.NumRows()) {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = expr.ValueAt(rec.Column(c), r)
			}
			out = append(out, row)
		}
	}
	return out
}

func release(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// readRows reads [s, e) of partition 0 and returns its rows. It checks the
// Read contract on the way: schema, no empty records, at most maxRows rows
// per record and exactly maxRows in all but the last.
func readRows(t *testing.T, src Source, mem memory.Allocator, s, e int64, maxRows int) [][]any {
	t.Helper()
	got, err := tryReadRows(src, mem, s, e, maxRows)
	if err != nil {
		t.Fatalf("Read [%d, %d) maxRows %d: %v", s, e, maxRows, err)
	}
	return got
}

func tryReadRows(src Source, mem memory.Allocator, s, e int64, maxRows int) ([][]any, error) {
	recs, err := src.Read(context.Background(), mem, Offsets{0: s}, Offsets{0: e}, maxRows)
	if err != nil {
		return nil, err
	}
	defer release(recs)
	var n int64
	for i, rec := range recs {
		if !rec.Schema().Equal(src.Schema()) {
			return nil, fmt.Errorf("record %d has schema %s, want %s", i, rec.Schema(), src.Schema())
		}
		switch {
		case rec.NumRows() == 0:
			return nil, fmt.Errorf("record %d is empty", i)
		case rec.NumRows() > int64(maxRows):
			return nil, fmt.Errorf("record %d has %d rows, more than maxRows %d", i, rec.NumRows(), maxRows)
		case i < len(recs)-1 && rec.NumRows() != int64(maxRows):
			return nil, fmt.Errorf("record %d of %d has %d rows, want maxRows %d", i, len(recs), rec.NumRows(), maxRows)
		}
		n += rec.NumRows()
	}
	if n != e-s {
		return nil, fmt.Errorf("read %d rows, want %d", n, e-s)
	}
	return rows(recs), nil
}

// equalRows compares rows of Go values; times compare with Equal.
func equalRows(got, want [][]any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return false
		}
		for j := range got[i] {
			g, w := got[i][j], want[i][j]
			if gt, ok := g.(time.Time); ok {
				wt, ok := w.(time.Time)
				if !ok || !gt.Equal(wt) {
					return false
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				return false
			}
		}
	}
	return true
}

func assertRows(t *testing.T, what string, got, want [][]any) {
	t.Helper()
	if !equalRows(got, want) {
		t.Fatalf("%s:\n got %d rows %v\nwant %d rows %v", what, len(got), abbrev(got), len(want), abbrev(want))
	}
}

func abbrev(rows [][]any) string {
	s := fmt.Sprint(rows)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

// assertCode fails the test unless err carries SQLSTATE code and its
// message contains every one of words.
func assertCode(t *testing.T, err error, code string, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	if got := sqlerr.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not mention %q", err, w)
		}
	}
}

// assertDeleted fails the test unless err is a 22023 error wrapping an
// *OffsetsDeletedError with the given fields.
func assertDeleted(t *testing.T, err error, want OffsetsDeletedError) {
	t.Helper()
	var del *OffsetsDeletedError
	if !errors.As(err, &del) {
		t.Fatalf("got error %v, want an *OffsetsDeletedError", err)
	}
	if got := sqlerr.Code(err); got != sqlerr.InvalidParameterValue {
		t.Fatalf("got SQLSTATE %s, want 22023", got)
	}
	if *del != want {
		t.Fatalf("got %+v, want %+v", *del, want)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openFDs counts this process's open file descriptors (Linux), or returns
// -1 where it cannot.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
