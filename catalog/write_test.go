package catalog

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func TestWriteVersions(t *testing.T) {
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	created := users.Snapshot()
	steps := []struct {
		name        string
		fn          func(cur *Snapshot, w *Writer) error
		wantVersion uint64
		wantRows    int
	}{
		{"an insert commits version 2", insert([]any{int64(1), "a", int64(1)}, []any{int64(2), "b", int64(2)}), 2, 2},
		{"a statement that changes nothing commits nothing", func(*Snapshot, *Writer) error { return nil }, 2, 2},
		{"an update commits version 3", func(cur *Snapshot, w *Writer) error {
			o, _ := cur.Lookup([]any{int64(1)})
			_ = w.Delete(o)
			return w.Insert([]any{int64(1), "z", int64(9)})
		}, 3, 2},
		{"a delete commits version 4", func(cur *Snapshot, w *Writer) error {
			o, _ := cur.Lookup([]any{int64(2)})
			return w.Delete(o)
		}, 4, 1},
		{"delete all commits version 5", func(_ *Snapshot, w *Writer) error { w.DeleteAll(); return nil }, 5, 0},
		{"delete all of an empty table commits nothing", func(_ *Snapshot, w *Writer) error { w.DeleteAll(); return nil }, 5, 0},
	}
	prev := created
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := mustWrite(t, users, st.fn)
			if s.Version() != st.wantVersion || s.NumRows() != st.wantRows {
				t.Fatalf("got version %d with %d rows, want version %d with %d rows", s.Version(), s.NumRows(), st.wantVersion, st.wantRows)
			}
			if users.Snapshot() != s {
				t.Fatal("Snapshot() is not the version Write returned")
			}
			if s.CommittedAt().Before(prev.CommittedAt()) {
				t.Fatalf("commit time went backwards: %v after %v", s.CommittedAt(), prev.CommittedAt())
			}
			prev = s
		})
	}
}

func TestWriteRejectsInvalidStatements(t *testing.T) {
	ctx := context.Background()
	errFn := errors.New("planner error")
	tests := []struct {
		name     string
		fn       func(cur *Snapshot, w *Writer) error
		wantCode string
		wantMsg  string
	}{
		{
			name:     "a key inserted twice in one statement fails with 23505",
			fn:       insert([]any{int64(5), "e", int64(1)}, []any{int64(5), "f", int64(1)}),
			wantCode: sqlerr.UniqueViolation,
			wantMsg:  `duplicate key value violates unique constraint "users_pkey"`,
		},
		{
			name:     "a key that exists fails with 23505",
			fn:       insert([]any{int64(1), "x", int64(1)}),
			wantCode: sqlerr.UniqueViolation,
			wantMsg:  `duplicate key value violates unique constraint "users_pkey"`,
		},
		{
			name: "an update that collides with a row it does not delete fails with 23505",
			fn: func(cur *Snapshot, w *Writer) error {
				o, _ := cur.Lookup([]any{int64(1)})
				_ = w.Delete(o)
				return w.Insert([]any{int64(2), "a", int64(1)})
			},
			wantCode: sqlerr.UniqueViolation,
		},
		{
			name:     "null in a not-null column fails with 23502",
			fn:       insert([]any{int64(7), "g", nil}),
			wantCode: sqlerr.NotNullViolation,
			wantMsg:  `null value in column "qty" of relation "users" violates not-null constraint`,
		},
		{
			name:     "null in a primary-key column fails with 23502",
			fn:       insert([]any{nil, "g", int64(1)}),
			wantCode: sqlerr.NotNullViolation,
			wantMsg:  `null value in column "id" of relation "users" violates not-null constraint`,
		},
		{
			name:     "a string longer than varchar(3) in characters fails with 22001",
			fn:       insert([]any{int64(7), "éééé", int64(1)}),
			wantCode: sqlerr.StringDataRightTruncation,
			wantMsg:  "value too long for type character varying(3)",
		},
		{
			name:     "invalid UTF-8 fails with 22021",
			fn:       insert([]any{int64(7), "\xff", int64(1)}),
			wantCode: codeCharacterNotInRepertoire,
		},
		{
			name:     "a value of the wrong Go type fails with 42804",
			fn:       insert([]any{int64(7), "g", 1}),
			wantCode: sqlerr.DatatypeMismatch,
			wantMsg:  `column "qty" is of type integer but value is of Go type int`,
		},
		{
			name:     "an integer out of range fails with 22003",
			fn:       insert([]any{int64(7), "g", int64(math.MaxInt32 + 1)}),
			wantCode: sqlerr.NumericValueOutOfRange,
			wantMsg:  "integer out of range",
		},
		{
			name:     "a row with too few values fails",
			fn:       insert([]any{int64(7), "g"}),
			wantCode: sqlerr.InternalError,
		},
		{
			name:     "deleting an ordinal out of range fails",
			fn:       func(_ *Snapshot, w *Writer) error { return w.Delete(2) },
			wantCode: sqlerr.InternalError,
		},
		{
			name: "an insert error the callback ignores still fails the statement",
			fn: func(_ *Snapshot, w *Writer) error {
				_ = w.Insert([]any{int64(8), "h", nil})
				return w.Insert([]any{int64(9), "i", int64(1)})
			},
			wantCode: sqlerr.NotNullViolation,
		},
		{
			name: "an error from the callback is returned as it is",
			fn: func(_ *Snapshot, w *Writer) error {
				_ = w.Insert([]any{int64(8), "h", int64(1)})
				return errFn
			},
			wantCode: sqlerr.InternalError,
			wantMsg:  "planner error",
		},
	}
	dir := t.TempDir()
	c := openT(t, dir)
	users := mustCreate(t, c, usersDef())
	before := mustWrite(t, users, insert([]any{int64(1), "a", int64(1)}, []any{int64(2), "b", int64(2)}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := users.Write(ctx, tt.fn)
			if got != nil {
				t.Fatalf("a failed statement returned version %d", got.Version())
			}
			wantCode(t, err, tt.wantCode, tt.wantMsg)
			after := users.Snapshot()
			if after != before || !equalRows(rowsOf(after), rowsOf(before)) {
				t.Fatalf("a failed statement changed the table: version %d, rows %v", after.Version(), rowsOf(after))
			}
		})
	}
	var dup *sqlerr.Error
	_, err := users.Write(ctx, insert([]any{int64(1), "x", int64(1)}))
	if !errors.As(err, &dup) || dup.Detail != "Key (id)=(1) already exists." {
		t.Fatalf("got detail %q, want %q", dup.Detail, "Key (id)=(1) already exists.")
	}
	if _, err := users.Write(ctx, func(*Snapshot, *Writer) error { return errFn }); !errors.Is(err, errFn) {
		t.Fatalf("got %v, want the callback's error", err)
	}

	// Nothing of the failed statements reached the log.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	reopened, _ := c2.Table("users")
	if s := reopened.Snapshot(); s.Version() != before.Version() || !equalRows(rowsOf(s), rowsOf(before)) {
		t.Fatalf("after reopen: version %d rows %v, want version %d rows %v", s.Version(), rowsOf(s), before.Version(), rowsOf(before))
	}
}

func TestWriteChecksFinalStateUniqueness(t *testing.T) {
	tests := []struct {
		name     string
		fn       func(cur *Snapshot, w *Writer) error
		wantKeys []int64
		wantCode string
	}{
		{
			name:     "incrementing every key succeeds",
			fn:       updateAll(func(id int64) int64 { return id + 1 }),
			wantKeys: []int64{2, 3, 4, 5, 6},
		},
		{
			name:     "reversing the keys succeeds",
			fn:       updateAll(func(id int64) int64 { return 6 - id }),
			wantKeys: []int64{1, 2, 3, 4, 5},
		},
		{
			name:     "setting every key to one value fails with 23505",
			fn:       updateAll(func(int64) int64 { return 1 }),
			wantCode: sqlerr.UniqueViolation,
		},
		{
			name: "deleting a row and inserting its key again succeeds",
			fn: func(cur *Snapshot, w *Writer) error {
				o, _ := cur.Lookup([]any{int64(3)})
				_ = w.Delete(o)
				_ = w.Delete(o)
				return w.Insert([]any{int64(3), "new", int64(0)})
			},
			wantKeys: []int64{1, 2, 3, 4, 5},
		},
		{
			name: "delete all then inserting an old key succeeds",
			fn: func(_ *Snapshot, w *Writer) error {
				w.DeleteAll()
				return w.Insert([]any{int64(1), "new", int64(0)})
			},
			wantKeys: []int64{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openT(t, t.TempDir(), Options{ChunkRows: 2})
			users := mustCreate(t, c, usersDef())
			for id := int64(1); id <= 5; id++ {
				mustWrite(t, users, insert([]any{id, "r", id}))
			}
			s, err := users.Write(context.Background(), tt.fn)
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.NumRows() != len(tt.wantKeys) {
				t.Fatalf("got %d rows, want %d", s.NumRows(), len(tt.wantKeys))
			}
			for _, k := range tt.wantKeys {
				o, ok := s.Lookup([]any{k})
				if !ok || s.Row(o)[0] != k {
					t.Fatalf("Lookup(%d) = %d, %v", k, o, ok)
				}
			}
		})
	}
}

// updateAll rewrites every row's key with f, as UPDATE t SET id = f(id).
func updateAll(f func(int64) int64) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		for o := range cur.NumRows() {
			row := cur.Row(o)
			if err := w.Delete(o); err != nil {
				return err
			}
			row[0] = f(row[0].(int64))
			if err := w.Insert(row); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestValuesRoundTrip(t *testing.T) {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		in   []any
		want []any
	}{
		{
			name: "every type keeps its value",
			in: []any{true, int64(-32768), int64(math.MaxInt32), int64(math.MinInt64), 1.5, math.Pi, "héllo", "0123456789",
				time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
				sqltypes.Interval{Months: -1, Days: 2, Micros: 3}},
			want: []any{true, int64(-32768), int64(math.MaxInt32), int64(math.MinInt64), 1.5, math.Pi, "héllo", "0123456789",
				time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
				sqltypes.Interval{Months: -1, Days: 2, Micros: 3}},
		},
		{
			name: "nulls stay null",
			in:   []any{nil, nil, nil, int64(1), nil, nil, "k", nil, nil, nil, nil},
			want: []any{nil, nil, nil, int64(1), nil, nil, "k", nil, nil, nil, nil},
		},
		{
			name: "timestamps become UTC microseconds, dates midnight UTC, reals float32",
			in:   []any{false, int64(0), int64(0), int64(2), 0.1, 0.1, "k", "", ts, ts, sqltypes.Interval{}},
			want: []any{false, int64(0), int64(0), int64(2), float64(float32(0.1)), 0.1, "k", "",
				time.Date(2024, 2, 29, 12, 14, 15, 123456000, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), sqltypes.Interval{}},
		},
	}
	dir := t.TempDir()
	c := openT(t, dir)
	tbl := mustCreate(t, c, allTypesDef())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustWrite(t, tbl, insert(tt.in))
			key := []any{tt.in[3], tt.in[6]}
			o, ok := s.Lookup(key)
			if !ok {
				t.Fatalf("Lookup(%v) found nothing", key)
			}
			if got := s.Row(o); !equalRow(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if got := s.Row(o)[8]; got != nil && got.(time.Time).Location() != time.UTC {
				t.Fatalf("timestamp in %v, want UTC", got.(time.Time).Location())
			}
		})
	}
	want := rowsOf(tbl.Snapshot())
	if got := recordRows(t, tbl.Snapshot(), 4096); !equalRows(got, want) {
		t.Fatalf("records hold %v, rows are %v", got, want)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	tbl2, _ := c2.Table("all_types")
	if got := rowsOf(tbl2.Snapshot()); !equalRows(got, want) {
		t.Fatalf("after reopen got %v, want %v", got, want)
	}
	if err := c2.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	c3 := openT(t, dir)
	tbl3, _ := c3.Table("all_types")
	if got := rowsOf(tbl3.Snapshot()); !equalRows(got, want) {
		t.Fatalf("after checkpoint and reopen got %v, want %v", got, want)
	}
}

func TestLookup(t *testing.T) {
	c := openT(t, t.TempDir())
	tbl := mustCreate(t, c, TableDef{
		Name:       "f",
		Columns:    []ColumnDef{{Name: "k", Type: sqltypes.Float64}, {Name: "r", Type: sqltypes.Float32}, {Name: "v", Type: sqltypes.Text}},
		PrimaryKey: []int{0, 1},
	})
	s := mustWrite(t, tbl, insert([]any{0.0, 0.1, "zero"}, []any{math.NaN(), 1.0, "nan"}))
	tests := []struct {
		name   string
		key    []any
		wantOK bool
		want   string
	}{
		{"an exact key is found", []any{0.0, 0.1}, true, "zero"},
		{"minus zero equals zero", []any{math.Copysign(0, -1), 0.1}, true, "zero"},
		{"NaN equals NaN", []any{math.NaN(), 1.0}, true, "nan"},
		{"a missing key is not found", []any{1.0, 0.1}, false, ""},
		{"a key of the wrong Go type is not found", []any{0, 0.1}, false, ""},
		{"a key with too few values is not found", []any{0.0}, false, ""},
		{"a null key is not found", []any{nil, 0.1}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := s.Lookup(tt.key)
			if ok != tt.wantOK {
				t.Fatalf("got ok=%v, want %v", ok, tt.wantOK)
			}
			if ok && s.Row(o)[2] != tt.want {
				t.Fatalf("got row %v, want v=%q", s.Row(o), tt.want)
			}
		})
	}
	_, err := tbl.Write(context.Background(), insert([]any{math.Copysign(0, -1), 0.1, "minus zero"}))
	wantCode(t, err, sqlerr.UniqueViolation, `duplicate key value violates unique constraint "f_pkey"`)

	nopk := mustCreate(t, c, logDef())
	s = mustWrite(t, nopk, insert([]any{"a", int64(1)}))
	if _, ok := s.Lookup([]any{"a"}); ok {
		t.Fatal("Lookup found a row of a table without a primary key")
	}
}

func TestTableWithoutPrimaryKey(t *testing.T) {
	c := openT(t, t.TempDir())
	tbl := mustCreate(t, c, logDef())
	s := mustWrite(t, tbl, insert([]any{"a", int64(1)}, []any{"a", int64(1)}, []any{"b", nil}))
	if s.NumRows() != 3 {
		t.Fatalf("got %d rows, want 3 (duplicates are allowed)", s.NumRows())
	}
	s = mustWrite(t, tbl, func(_ *Snapshot, w *Writer) error {
		_ = w.Delete(0)
		return w.Delete(0)
	})
	if got, want := sorted(rowsOf(s)), [][]any{{"a", int64(1)}, {"b", nil}}; !equalRows(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
