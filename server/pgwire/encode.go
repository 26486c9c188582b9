package pgwire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Wire format codes.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// Offsets between the Unix epoch and PostgreSQL's (2000-01-01), in the
// units of binary timestamps and dates.
const (
	pgEpochMicros = 946684800 * 1_000_000
	pgEpochDays   = 10957
)

// rowDescription describes fields for the wire, each in its format.
func rowDescription(fields []Field, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(fields))}
	for i, f := range fields {
		rd.Fields[i] = pgproto3.FieldDescription{
			Name:         []byte(f.Name),
			DataTypeOID:  f.Type.OID(),
			DataTypeSize: f.Type.TypeSize(),
			TypeModifier: f.Type.TypeMod(),
			Format:       formats[i],
		}
	}
	return rd
}

// rowEncoder turns Arrow records into DataRow messages, or CopyData
// messages of COPY's text format, in two passes: a column-wise pass
// encodes each column's values with one typed loop per column (no
// per-value interfaces), then a row-wise pass stitches the encoded values
// into messages. Its buffers are reused from batch to batch.
type rowEncoder struct {
	cols   []encodedColumn
	starts []int  // per column, where the next row's value starts
	line   []byte // one CopyData message, for writeCopyRows
}

// encodedColumn holds the wire values of one column for a range of rows:
// each value is its 4-byte length (-1 for NULL) and its bytes; ends[i] is
// where row i's value ends in data.
type encodedColumn struct {
	data []byte
	ends []int
}

// encode encodes rows [from, to) of rec, whose columns must match fields.
func (e *rowEncoder) encode(rec arrow.Record, from, to int, fields []Field, formats []int16) error {
	if int(rec.NumCols()) != len(fields) {
		return fmt.Errorf("result batch has %d columns, statement describes %d", rec.NumCols(), len(fields))
	}
	if cap(e.cols) < len(fields) {
		e.cols = make([]encodedColumn, len(fields))
	}
	e.cols = e.cols[:len(fields)]
	for j, f := range fields {
		c := &e.cols[j]
		c.data, c.ends = c.data[:0], c.ends[:0]
		if err := c.encode(rec.Column(j), from, to, f.Type, formats[j]); err != nil {
			return fmt.Errorf("column %d (%s): %w", j+1, f.Name, err)
		}
	}
	return nil
}

// writeRows writes the n encoded rows as DataRow messages to w.
func (e *rowEncoder) writeRows(w *bufio.Writer, n int) error {
	e.starts = append(e.starts[:0], make([]int, len(e.cols))...)
	starts := e.starts
	for i := 0; i < n; i++ {
		size := 4 + 2
		for j := range e.cols {
			size += e.cols[j].ends[i] - starts[j]
		}
		buf := w.AvailableBuffer()
		buf = append(buf, 'D')
		buf = binary.BigEndian.AppendUint32(buf, uint32(size))
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(e.cols)))
		for j := range e.cols {
			c := &e.cols[j]
			buf = append(buf, c.data[starts[j]:c.ends[i]]...)
			starts[j] = c.ends[i]
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// writeCopyRows writes the n encoded rows, which must have been encoded
// in text format, to w as CopyData messages of COPY's text format, one per
// row: the values separated by tabs, NULL as \N, escaped as by
// appendCopyText, and a newline.
func (e *rowEncoder) writeCopyRows(w *bufio.Writer, n int) error {
	e.starts = append(e.starts[:0], make([]int, len(e.cols))...)
	starts := e.starts
	for i := 0; i < n; i++ {
		line := append(e.line[:0], 'd', 0, 0, 0, 0)
		for j := range e.cols {
			if j > 0 {
				line = append(line, '\t')
			}
			c := &e.cols[j]
			v := c.data[starts[j]:c.ends[i]]
			starts[j] = c.ends[i]
			if int32(binary.BigEndian.Uint32(v)) < 0 {
				line = append(line, '\\', 'N')
				continue
			}
			line = appendCopyText(line, v[4:])
		}
		line = append(line, '\n')
		binary.BigEndian.PutUint32(line[1:], uint32(len(line)-1))
		e.line = line
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// appendCopyText appends a value's text form as COPY's text format writes
// it (PostgreSQL's CopyAttributeOutText with a tab delimiter): a backslash
// is doubled; backspace, form feed, newline, carriage return, tab and
// vertical tab become \b, \f, \n, \r, \t and \v; every other byte, other
// control characters included, is written as is.
func appendCopyText(dst, v []byte) []byte {
	for len(v) > 0 {
		i := 0
		for i < len(v) && copyEscape(v[i]) == 0 {
			i++
		}
		dst = append(dst, v[:i]...)
		if i == len(v) {
			break
		}
		dst = append(dst, '\\', copyEscape(v[i]))
		v = v[i+1:]
	}
	return dst
}

// copyEscape returns the letter that follows the backslash when COPY's
// text format escapes b, or zero when it does not.
func copyEscape(b byte) byte {
	if b >= 0x20 && b != '\\' {
		return 0
	}
	switch b {
	case '\\':
		return '\\'
	case '\b':
		return 'b'
	case '\f':
		return 'f'
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	case '\t':
		return 't'
	case '\v':
		return 'v'
	}
	return 0
}

// begin starts a value: a length placeholder, patched by end.
func (c *encodedColumn) begin() int {
	c.data = append(c.data, 0, 0, 0, 0)
	return len(c.data)
}

func (c *encodedColumn) end(start int) {
	binary.BigEndian.PutUint32(c.data[start-4:], uint32(len(c.data)-start))
	c.ends = append(c.ends, len(c.data))
}

func (c *encodedColumn) null() {
	c.data = append(c.data, 0xff, 0xff, 0xff, 0xff)
	c.ends = append(c.ends, len(c.data))
}

// fixed appends a value of n bytes, returning where to write them.
func (c *encodedColumn) fixed(n int) []byte {
	c.data = binary.BigEndian.AppendUint32(c.data, uint32(n))
	c.data = append(c.data, make([]byte, n)...)
	c.ends = append(c.ends, len(c.data))
	return c.data[len(c.data)-n:]
}

// encode encodes rows [from, to) of arr, of SQL type t, in format.
func (c *encodedColumn) encode(arr arrow.Array, from, to int, t sqltypes.Type, format int16) error {
	if arr.DataType().ID() == arrow.NULL {
		for i := from; i < to; i++ {
			c.null()
		}
		return nil
	}
	if want := t.Arrow(); !arrow.TypeEqual(arr.DataType(), want) {
		return fmt.Errorf("arrow type %s does not hold %s (want %s)", arr.DataType(), t, want)
	}
	nulls := arr.NullN() > 0
	bin := format == formatBinary
	switch a := arr.(type) {
	case *array.Boolean:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				c.fixed(1)[0] = boolByte(a.Value(i))
			default:
				v := byte('f')
				if a.Value(i) {
					v = 't'
				}
				c.fixed(1)[0] = v
			}
		}
	case *array.Int16:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint16(c.fixed(2), uint16(a.Value(i)))
			default:
				s := c.begin()
				c.data = strconv.AppendInt(c.data, int64(a.Value(i)), 10)
				c.end(s)
			}
		}
	case *array.Int32:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint32(c.fixed(4), uint32(a.Value(i)))
			default:
				s := c.begin()
				c.data = strconv.AppendInt(c.data, int64(a.Value(i)), 10)
				c.end(s)
			}
		}
	case *array.Int64:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint64(c.fixed(8), uint64(a.Value(i)))
			default:
				s := c.begin()
				c.data = strconv.AppendInt(c.data, a.Value(i), 10)
				c.end(s)
			}
		}
	case *array.Float32:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint32(c.fixed(4), math.Float32bits(a.Value(i)))
			default:
				s := c.begin()
				c.data = sqltypes.AppendFloat(c.data, float64(a.Value(i)), 32)
				c.end(s)
			}
		}
	case *array.Float64:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint64(c.fixed(8), math.Float64bits(a.Value(i)))
			default:
				s := c.begin()
				c.data = sqltypes.AppendFloat(c.data, a.Value(i), 64)
				c.end(s)
			}
		}
	case *array.String:
		// Text and binary are the same bytes for text types.
		for i := from; i < to; i++ {
			if nulls && a.IsNull(i) {
				c.null()
				continue
			}
			s := c.begin()
			c.data = append(c.data, a.Value(i)...)
			c.end(s)
		}
	case *array.Timestamp:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint64(c.fixed(8), uint64(int64(a.Value(i))-pgEpochMicros))
			default:
				s := c.begin()
				c.data = sqltypes.AppendTimestamp(c.data, time.UnixMicro(int64(a.Value(i))))
				c.end(s)
			}
		}
	case *array.Date32:
		for i := from; i < to; i++ {
			switch {
			case nulls && a.IsNull(i):
				c.null()
			case bin:
				binary.BigEndian.PutUint32(c.fixed(4), uint32(int32(a.Value(i))-pgEpochDays))
			default:
				s := c.begin()
				c.data = sqltypes.AppendDate(c.data, time.Unix(int64(a.Value(i))*86400, 0))
				c.end(s)
			}
		}
	case *array.MonthDayNanoInterval:
		for i := from; i < to; i++ {
			if nulls && a.IsNull(i) {
				c.null()
				continue
			}
			v := a.Value(i)
			iv := sqltypes.Interval{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}
			if bin {
				b := c.fixed(16)
				binary.BigEndian.PutUint64(b, uint64(iv.Micros))
				binary.BigEndian.PutUint32(b[8:], uint32(iv.Days))
				binary.BigEndian.PutUint32(b[12:], uint32(iv.Months))
				continue
			}
			s := c.begin()
			c.data = sqltypes.AppendInterval(c.data, iv)
			c.end(s)
		}
	default:
		return fmt.Errorf("arrow array %T is not supported", arr)
	}
	return nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
