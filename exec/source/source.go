package source

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
)

// Offsets maps a partition to an offset in it. Offsets are row numbers:
// the first row ever written to a partition has offset 0.
type Offsets map[int32]int64

// String prints the offsets in partition order, as "{0:17 1:4}".
func (o Offsets) String() string {
	parts := make([]int32, 0, len(o))
	for p := range o {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", p, o[p])
	}
	b.WriteByte('}')
	return b.String()
}

// Clone returns a copy of o.
func (o Offsets) Clone() Offsets {
	c := make(Offsets, len(o))
	for p, v := range o {
		c[p] = v
	}
	return c
}

// Column is a declared column of a source.
type Column struct {
	Name string
	Type sqltypes.Type
}

// Source is an append-only, replayable input with a schema, read by
// offset ranges. The micro-batch runner plans batch N as [start, end) per
// partition (end taken from Latest, bounded by max_rows_per_batch), writes
// that plan to its checkpoint, and only then calls Read; replaying batch N
// after a crash calls Read with the same offsets and must get the same
// rows. Every implementation guarantees that: offsets below Latest are
// immutable until retention deletes them, and then Read fails rather than
// returning something else.
//
// A Source is safe for concurrent use.
type Source interface {
	// Schema returns the declared columns, with Arrow types as
	// sqltypes.Type.Arrow gives them. Every field is nullable.
	Schema() *arrow.Schema

	// Latest returns, per partition, the exclusive end of what exists now.
	// It never decreases.
	Latest(ctx context.Context) (Offsets, error)

	// Earliest returns, per partition, the first offset still available
	// (it rises as retention deletes data).
	Earliest(ctx context.Context) (Offsets, error)

	// Read returns the rows in [start[p], end[p]) of every partition p of
	// end, as records of at most maxRows rows each, in partition then
	// offset order. The caller releases the records. A partition in end
	// must be in start; start[p] <= end[p] <= Latest()[p].
	//
	// Reading a range part of which retention deleted fails with an error
	// that carries SQLSTATE 22023 (invalid_parameter_value: the offsets
	// asked for are no longer valid) and wraps an *OffsetsDeletedError,
	// which names the source, partition and offsets; match it with
	// errors.As. Other bad ranges are 22023 errors too.
	Read(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, error)

	// Close releases the source's resources. It is safe to call twice.
	Close() error
}

// OffsetsDeletedError reports a read of offsets that retention has
// deleted: the rows in [Start, Earliest) of Partition are gone. The
// recovery issue builds its data-loss guard on this type.
type OffsetsDeletedError struct {
	Source    string
	Partition int32
	Start     int64 // first offset asked for
	End       int64 // exclusive end asked for
	Earliest  int64 // first offset still available
}

func (e *OffsetsDeletedError) Error() string {
	return fmt.Sprintf("source %s partition %d: offsets [%d, %d) asked for, but retention deleted everything before offset %d",
		e.Source, e.Partition, e.Start, e.End, e.Earliest)
}

func errOffsetsDeleted(name string, p int32, start, end, earliest int64) error {
	return sqlerr.Wrap(sqlerr.InvalidParameterValue, &OffsetsDeletedError{
		Source: name, Partition: p, Start: start, End: end, Earliest: earliest,
	})
}

// IsCommonOption reports whether key is a source option that the planner
// and runner interpret for every connector (connector, start_offset,
// event_time, watermark_delay, max_rows_per_batch: the default bound per
// partition of the batches of streams reading the source). The connector
// option parsers skip them, so
// a whole WITH list may be handed to them.
func IsCommonOption(key string) bool {
	switch strings.ToLower(key) {
	case "connector", "start_offset", "event_time", "watermark_delay", "max_rows_per_batch":
		return true
	}
	return false
}

// schemaOf returns the Arrow schema of cols.
func schemaOf(cols []Column) (*arrow.Schema, error) {
	if len(cols) == 0 {
		return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "a source needs at least one column")
	}
	fields := make([]arrow.Field, len(cols))
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if c.Type.Kind == sqltypes.KindUnknown {
			return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "column %q has no type", c.Name)
		}
		key := strings.ToLower(c.Name)
		if seen[key] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		seen[key] = true
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// singleRange checks a read request against a one-partition source whose
// data is [earliest, latest) and returns the range of partition 0. ok is
// false when there is nothing to read.
func singleRange(name string, start, end Offsets, maxRows int, earliest, latest int64) (s, e int64, ok bool, err error) {
	if maxRows <= 0 {
		return 0, 0, false, sqlerr.New(sqlerr.InvalidParameterValue, "source %s: maxRows must be positive, got %d", name, maxRows)
	}
	for p := range end {
		if p != 0 {
			return 0, 0, false, sqlerr.New(sqlerr.InvalidParameterValue, "source %s has no partition %d", name, p)
		}
	}
	e, ok = end[0]
	if !ok {
		return 0, 0, false, nil
	}
	s, ok = start[0]
	if !ok {
		return 0, 0, false, sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition 0: no start offset for end offset %d", name, e)
	}
	switch {
	case s < 0 || s > e:
		return 0, 0, false, sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition 0: invalid offset range [%d, %d)", name, s, e)
	case e > latest:
		return 0, 0, false, sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition 0: end offset %d is beyond the latest offset %d", name, e, latest)
	case s == e:
		return s, e, false, nil
	case s < earliest:
		return 0, 0, false, errOffsetsDeleted(name, 0, s, e, earliest)
	}
	return s, e, true, nil
}

// batcher gathers record pieces into records of exactly maxRows rows (the
// last may be shorter).
type batcher struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	maxRows int
	pieces  []arrow.Record
	n       int
	out     []arrow.Record
}

// add takes ownership of one reference to rec.
func (b *batcher) add(rec arrow.Record) error {
	for {
		rows := int(rec.NumRows())
		if rows == 0 {
			rec.Release()
			return nil
		}
		take := min(rows, b.maxRows-b.n)
		if take == rows {
			b.pieces = append(b.pieces, rec)
			b.n += take
			rec = nil
		} else {
			b.pieces = append(b.pieces, rec.NewSlice(0, int64(take)))
			b.n += take
			rest := rec.NewSlice(int64(take), int64(rows))
			rec.Release()
			rec = rest
		}
		if b.n == b.maxRows {
			if err := b.flush(); err != nil {
				if rec != nil {
					rec.Release()
				}
				return err
			}
		}
		if rec == nil {
			return nil
		}
	}
}

// flush turns the gathered pieces into one record.
func (b *batcher) flush() error {
	switch len(b.pieces) {
	case 0:
		return nil
	case 1:
		b.out = append(b.out, b.pieces[0])
		b.pieces, b.n = b.pieces[:0], 0
		return nil
	}
	cols := make([]arrow.Array, b.schema.NumFields())
	var err error
	for i := range cols {
		arrs := make([]arrow.Array, len(b.pieces))
		for j, p := range b.pieces {
			arrs[j] = p.Column(i)
		}
		if cols[i], err = array.Concatenate(arrs, b.mem); err != nil {
			break
		}
	}
	if err == nil {
		rec := array.NewRecord(b.schema, cols, int64(b.n))
		b.out = append(b.out, rec)
	}
	for _, c := range cols {
		if c != nil {
			c.Release()
		}
	}
	for _, p := range b.pieces {
		p.Release()
	}
	b.pieces, b.n = b.pieces[:0], 0
	if err != nil {
		return fmt.Errorf("concatenate records: %w", err)
	}
	return nil
}

// finish flushes and returns the records.
func (b *batcher) finish() ([]arrow.Record, error) {
	if err := b.flush(); err != nil {
		b.release()
		return nil, err
	}
	out := b.out
	b.out = nil
	return out, nil
}

// release drops everything gathered (on an error path).
func (b *batcher) release() {
	for _, p := range b.pieces {
		p.Release()
	}
	for _, r := range b.out {
		r.Release()
	}
	b.pieces, b.out, b.n = nil, nil, 0
}

// appendValue appends a Go value of a SQL value to a builder.
func appendValue(b array.Builder, v any) error { return expr.AppendValue(b, v) }

// BadRecord is an input record a source could not decode (malformed
// JSON, a value of the wrong type). It is not in the records Read
// returns; the stream counts it (sluice_progress.bad_rows), keeps the
// first few per batch (sluice_errors) and may copy it to a dead-letter
// topic. Reading the same range again yields the same bad records.
type BadRecord struct {
	Partition int32
	Offset    int64
	// Err says what was wrong, naming the column where there is one.
	Err string
	// Key and Value are the raw record (Key is nil where the input has no
	// keys). They are the caller's: a source does not reuse them.
	Key, Value []byte
}

// BadRecordReader is implemented by sources whose records can fail to
// decode. ReadWithBad is Read that also returns the undecodable records
// of the range, in partition then offset order; a stream calls it instead
// of Read when its source has it.
type BadRecordReader interface {
	ReadWithBad(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, []BadRecord, error)
}

// UnavailableError reports that an outside system a source or sink needs
// (a Kafka broker) did not answer or answered with a retriable error.
// Trying again later may succeed: a stream retries with backoff, in
// status 'retrying', rather than failing.
type UnavailableError struct {
	What string // what was being done
	Err  error
}

func (e *UnavailableError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable returns an *UnavailableError with SQLSTATE 08006
// (connection_failure).
func Unavailable(what string, err error) error {
	return sqlerr.Wrap(sqlerr.ConnectionFailure, &UnavailableError{What: what, Err: err})
}

// IsUnavailable reports whether err is (or wraps) an *UnavailableError.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// Truncatable is implemented by sources whose partitions may end before
// an offset they once had (a Kafka topic deleted and created again, or
// truncated by an unclean leader election). For them a partition ending
// before a stream's offset is data loss; the other sources only grow
// (a rate-limited generator counts its rows due again from when it was
// opened, and catches up).
type Truncatable interface {
	MayTruncate() bool
}

// Resumer is implemented by sources that count the rows due from when
// they were opened (generators at a rate): after a restart a stream that
// has read further tells the source where it is, and the rate counts on
// from there instead of from 0 (the stream would otherwise wait as long
// as it had run before).
type Resumer interface {
	ResumeFrom(offs Offsets)
}
