package pgwire

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// SQLSTATEs that sqlerr has no name for yet.
const (
	codeInvalidBinaryRepresentation = sqlerr.InvalidBinaryRepresentation
	codeCharacterNotInRepertoire    = sqlerr.CharacterNotInRepertoire
	codeInvalidSQLStatementName     = sqlerr.InvalidSQLStatementName
	codeInvalidCursorName           = sqlerr.InvalidCursorName
	codeDuplicatePreparedStatement  = sqlerr.DuplicatePreparedStatement
	codeDuplicateCursor             = sqlerr.DuplicateCursor
)

// Range of PostgreSQL's timestamp: 4714-11-24 BC to 294276-12-31.
var (
	minTimestamp = time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	endTimestamp = time.Date(294277, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// decodeParam decodes parameter n (1-based) of type t, sent in format,
// that the client declared with type OID declared (0 when it did not).
// A nil b is NULL.
func decodeParam(n int, t sqltypes.Type, declared uint32, format int16, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	switch format {
	case formatText:
		s := string(b)
		if err := checkText(s); err != nil {
			return nil, err
		}
		if t.Kind == sqltypes.KindTimestamp && declared == sqltypes.OIDTimestampTZ {
			return sqltypes.ParseTimestampTZ(s)
		}
		return sqltypes.ParseText(t, s)
	case formatBinary:
		if _, known := sqltypes.FromOID(declared); (declared != 0 && !known) || declared == sqltypes.OIDNumeric {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "binary format for parameter $%d of type OID %d is not supported", n, declared)
		}
		v, ok, err := decodeBinary(t, b)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sqlerr.New(codeInvalidBinaryRepresentation, "incorrect binary data format in bind parameter %d", n)
		}
		return v, nil
	}
	return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unsupported format code: %d", format)
}

// checkText refuses bytes that are not UTF-8 text, as PostgreSQL does on
// input in a UTF8 database.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return sqlerr.New(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return sqlerr.New(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
	}
	return nil
}

// decodeBinary decodes PostgreSQL's binary format of t; ok is false when b
// has the wrong length.
func decodeBinary(t sqltypes.Type, b []byte) (v any, ok bool, err error) {
	be := binary.BigEndian
	switch t.Kind {
	case sqltypes.KindBool:
		if len(b) != 1 {
			return nil, false, nil
		}
		return b[0] != 0, true, nil
	case sqltypes.KindInt16:
		if len(b) != 2 {
			return nil, false, nil
		}
		return int64(int16(be.Uint16(b))), true, nil
	case sqltypes.KindInt32:
		if len(b) != 4 {
			return nil, false, nil
		}
		return int64(int32(be.Uint32(b))), true, nil
	case sqltypes.KindInt64:
		if len(b) != 8 {
			return nil, false, nil
		}
		return int64(be.Uint64(b)), true, nil
	case sqltypes.KindFloat32:
		if len(b) != 4 {
			return nil, false, nil
		}
		return float64(math.Float32frombits(be.Uint32(b))), true, nil
	case sqltypes.KindFloat64:
		if len(b) != 8 {
			return nil, false, nil
		}
		return math.Float64frombits(be.Uint64(b)), true, nil
	case sqltypes.KindText, sqltypes.KindUnknown:
		s := string(b)
		if err := checkText(s); err != nil {
			return nil, false, err
		}
		return s, true, nil
	case sqltypes.KindTimestamp:
		if len(b) != 8 {
			return nil, false, nil
		}
		us := int64(be.Uint64(b))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, false, sqlerr.New(sqlerr.FeatureNotSupported, "infinite timestamps are not supported")
		}
		// Seconds and microseconds apart: us plus the epoch offset can
		// overflow int64 near the top of the range.
		ts := time.Unix(us/1_000_000+pgEpochMicros/1_000_000, us%1_000_000*1000).UTC()
		if ts.Before(minTimestamp) || !ts.Before(endTimestamp) {
			return nil, false, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
		}
		return ts, true, nil
	case sqltypes.KindDate:
		if len(b) != 4 {
			return nil, false, nil
		}
		days := int32(be.Uint32(b))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return nil, false, sqlerr.New(sqlerr.FeatureNotSupported, "infinite dates are not supported")
		}
		return time.Date(2000, time.January, 1+int(days), 0, 0, 0, 0, time.UTC), true, nil
	case sqltypes.KindInterval:
		if len(b) != 16 {
			return nil, false, nil
		}
		return sqltypes.Interval{
			Micros: int64(be.Uint64(b)),
			Days:   int32(be.Uint32(b[8:])),
			Months: int32(be.Uint32(b[12:])),
		}, true, nil
	}
	return nil, false, sqlerr.New(sqlerr.FeatureNotSupported, "binary format of type %s is not supported", t)
}
