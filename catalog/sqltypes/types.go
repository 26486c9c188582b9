// Package sqltypes defines Sluice's SQL types, how each maps to an Arrow
// data type and a PostgreSQL type OID, and the Go values that stand for
// single SQL values outside Arrow arrays.
//
// Go values of SQL values (used for literals, parameters and row-level
// catalog writes):
//
//	NULL                      nil
//	BOOLEAN                   bool
//	SMALLINT, INTEGER, BIGINT int64
//	REAL, DOUBLE PRECISION    float64
//	TEXT, VARCHAR(n)          string
//	TIMESTAMP                 time.Time in UTC, microsecond precision
//	DATE                      time.Time at midnight UTC
//	INTERVAL                  Interval
//
// It is a leaf package: it imports nothing of Sluice's but sqlerr.
package sqltypes

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Kind is the kind of a SQL type.
type Kind uint8

// The kinds. KindUnknown is the type of an untyped NULL or an untyped
// string literal whose type is not yet resolved.
const (
	KindUnknown Kind = iota
	KindBool
	KindInt16
	KindInt32
	KindInt64
	KindFloat32
	KindFloat64
	KindText
	KindTimestamp
	KindDate
	KindInterval
)

// Type is a SQL type. Width is the n of VARCHAR(n); 0 means unbounded
// (TEXT). Width is ignored for other kinds.
type Type struct {
	Kind  Kind
	Width int
}

// Convenience values.
var (
	Unknown   = Type{Kind: KindUnknown}
	Bool      = Type{Kind: KindBool}
	Int16     = Type{Kind: KindInt16}
	Int32     = Type{Kind: KindInt32}
	Int64     = Type{Kind: KindInt64}
	Float32   = Type{Kind: KindFloat32}
	Float64   = Type{Kind: KindFloat64}
	Text      = Type{Kind: KindText}
	Timestamp = Type{Kind: KindTimestamp}
	Date      = Type{Kind: KindDate}
	IntervalT = Type{Kind: KindInterval}
)

// Varchar returns VARCHAR(n).
func Varchar(n int) Type { return Type{Kind: KindText, Width: n} }

// Interval is a SQL INTERVAL value, as PostgreSQL stores it.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// IsInteger reports whether t is SMALLINT, INTEGER or BIGINT.
func (t Type) IsInteger() bool {
	return t.Kind == KindInt16 || t.Kind == KindInt32 || t.Kind == KindInt64
}

// IsFloat reports whether t is REAL or DOUBLE PRECISION.
func (t Type) IsFloat() bool { return t.Kind == KindFloat32 || t.Kind == KindFloat64 }

// IsNumeric reports whether t is an integer or float type.
func (t Type) IsNumeric() bool { return t.IsInteger() || t.IsFloat() }

// String returns PostgreSQL's name of the type.
func (t Type) String() string {
	switch t.Kind {
	case KindBool:
		return "boolean"
	case KindInt16:
		return "smallint"
	case KindInt32:
		return "integer"
	case KindInt64:
		return "bigint"
	case KindFloat32:
		return "real"
	case KindFloat64:
		return "double precision"
	case KindText:
		if t.Width > 0 {
			return fmt.Sprintf("character varying(%d)", t.Width)
		}
		return "text"
	case KindTimestamp:
		return "timestamp without time zone"
	case KindDate:
		return "date"
	case KindInterval:
		return "interval"
	default:
		return "unknown"
	}
}

// PostgreSQL type OIDs.
const (
	OIDBool        uint32 = 16
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDText        uint32 = 25
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDUnknown     uint32 = 705
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTimestamp   uint32 = 1114
	OIDTimestampTZ uint32 = 1184
	OIDInterval    uint32 = 1186
	OIDNumeric     uint32 = 1700
)

// OID returns the PostgreSQL type OID of t. Unknown maps to text, as
// PostgreSQL resolves an unknown-typed output column.
func (t Type) OID() uint32 {
	switch t.Kind {
	case KindBool:
		return OIDBool
	case KindInt16:
		return OIDInt2
	case KindInt32:
		return OIDInt4
	case KindInt64:
		return OIDInt8
	case KindFloat32:
		return OIDFloat4
	case KindFloat64:
		return OIDFloat8
	case KindText:
		if t.Width > 0 {
			return OIDVarchar
		}
		return OIDText
	case KindTimestamp:
		return OIDTimestamp
	case KindDate:
		return OIDDate
	case KindInterval:
		return OIDInterval
	default:
		return OIDText
	}
}

// TypeSize returns the pg_type.typlen of t (-1 for variable length).
func (t Type) TypeSize() int16 {
	switch t.Kind {
	case KindBool:
		return 1
	case KindInt16:
		return 2
	case KindInt32, KindFloat32, KindDate:
		return 4
	case KindInt64, KindFloat64, KindTimestamp:
		return 8
	case KindInterval:
		return 16
	default:
		return -1
	}
}

// TypeMod returns the atttypmod PostgreSQL reports for t: n+4 for
// VARCHAR(n), -1 otherwise.
func (t Type) TypeMod() int32 {
	if t.Kind == KindText && t.Width > 0 {
		return int32(t.Width + 4)
	}
	return -1
}

// FromOID returns the type for a PostgreSQL type OID; ok is false for OIDs
// Sluice does not know (including 0, "unspecified").
func FromOID(oid uint32) (Type, bool) {
	switch oid {
	case OIDBool:
		return Bool, true
	case OIDInt2:
		return Int16, true
	case OIDInt4:
		return Int32, true
	case OIDInt8:
		return Int64, true
	case OIDFloat4:
		return Float32, true
	case OIDFloat8, OIDNumeric:
		return Float64, true
	case OIDText, OIDVarchar, OIDUnknown:
		return Text, true
	case OIDTimestamp, OIDTimestampTZ:
		return Timestamp, true
	case OIDDate:
		return Date, true
	case OIDInterval:
		return IntervalT, true
	}
	return Unknown, false
}

// Arrow returns the Arrow data type that holds values of t.
// TIMESTAMP is microseconds with no time zone (values are UTC).
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindInt16:
		return arrow.PrimitiveTypes.Int16
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindInt64:
		return arrow.PrimitiveTypes.Int64
	case KindFloat32:
		return arrow.PrimitiveTypes.Float32
	case KindFloat64:
		return arrow.PrimitiveTypes.Float64
	case KindText, KindUnknown:
		return arrow.BinaryTypes.String
	case KindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindInterval:
		return arrow.FixedWidthTypes.MonthDayNanoInterval
	}
	return arrow.Null
}

// FromArrow returns the SQL type of an Arrow data type. VARCHAR widths are
// not recoverable from Arrow; they come back as TEXT.
func FromArrow(dt arrow.DataType) (Type, error) {
	switch dt.ID() {
	case arrow.BOOL:
		return Bool, nil
	case arrow.INT16:
		return Int16, nil
	case arrow.INT32:
		return Int32, nil
	case arrow.INT64:
		return Int64, nil
	case arrow.FLOAT32:
		return Float32, nil
	case arrow.FLOAT64:
		return Float64, nil
	case arrow.STRING:
		return Text, nil
	case arrow.TIMESTAMP:
		return Timestamp, nil
	case arrow.DATE32:
		return Date, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return IntervalT, nil
	case arrow.NULL:
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("arrow type %s has no SQL type", dt)
}

// ParseName returns the type named by a SQL type name as a user writes it
// ("int", "integer", "int4", "bigint", "double precision", "varchar(20)",
// "character varying", "text", "timestamp", ...). ok is false when the
// name is not a Sluice type.
func ParseName(name string) (Type, bool) {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	width := 0
	if i := strings.IndexByte(n, '('); i >= 0 && strings.HasSuffix(n, ")") {
		arg := strings.TrimSpace(n[i+1 : len(n)-1])
		if _, err := fmt.Sscanf(arg, "%d", &width); err != nil {
			return Unknown, false
		}
		n = strings.TrimSpace(n[:i])
	}
	switch n {
	case "bool", "boolean":
		return Bool, true
	case "smallint", "int2":
		return Int16, true
	case "int", "integer", "int4", "mediumint":
		return Int32, true
	case "bigint", "int8":
		return Int64, true
	case "real", "float4":
		return Float32, true
	case "double", "double precision", "float8", "float", "numeric", "decimal":
		return Float64, true
	case "text", "string":
		return Text, true
	case "varchar", "character varying", "char varying":
		return Varchar(width), true
	case "timestamp", "timestamp without time zone", "datetime":
		return Timestamp, true
	case "date":
		return Date, true
	case "interval":
		return IntervalT, true
	}
	return Unknown, false
}
