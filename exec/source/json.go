package source

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// This file holds the JSON codec of sources and sinks: JSONDecoder turns
// one JSON object per message into a row of Arrow builders, JSONEncoder
// writes a row of Arrow arrays as one JSON object. Both are written for
// throughput: the decoder is a hand-written scanner that allocates nothing
// per message once its scratch space has grown, and neither uses
// encoding/json or reflection.
//
// The decoder works in three passes over one message:
//
//  1. scan: validate the whole message as JSON and, for each key that
//     names a column, record the value's span and kind in the column's
//     slot. Unknown keys and their values are validated and skipped.
//  2. convert: turn every slot into its column's value (parse numbers,
//     timestamps; unescape strings into scratch).
//  3. append: append every column's value to its builder.
//
// Only pass 3 touches the builders, and it cannot fail, so a message
// either adds one row to every builder or nothing to any.

// jsonKind is the Arrow column type a codec column has.
type jsonKind uint8

const (
	jkBool jsonKind = iota
	jkInt16
	jkInt32
	jkInt64
	jkFloat32
	jkFloat64
	jkText
	jkTimestamp
	jkDate
	jkInterval
)

// jsonKindOf returns the codec kind of an Arrow type, as
// sqltypes.Type.Arrow gives them; anything else is a 0A000 error.
func jsonKindOf(f arrow.Field) (jsonKind, string, error) {
	var k jsonKind
	switch t := f.Type.(type) {
	case *arrow.BooleanType:
		k = jkBool
	case *arrow.Int16Type:
		k = jkInt16
	case *arrow.Int32Type:
		k = jkInt32
	case *arrow.Int64Type:
		k = jkInt64
	case *arrow.Float32Type:
		k = jkFloat32
	case *arrow.Float64Type:
		k = jkFloat64
	case *arrow.StringType:
		k = jkText
	case *arrow.TimestampType:
		if t.Unit != arrow.Microsecond || t.TimeZone != "" {
			return 0, "", sqlerr.New(sqlerr.FeatureNotSupported, "column %q: JSON of Arrow type %s is not supported (want timestamp[us] without a time zone)", f.Name, f.Type)
		}
		k = jkTimestamp
	case *arrow.Date32Type:
		k = jkDate
	case *arrow.MonthDayNanoIntervalType:
		k = jkInterval
	default:
		return 0, "", sqlerr.New(sqlerr.FeatureNotSupported, "column %q: JSON of Arrow type %s is not supported", f.Name, f.Type)
	}
	st, err := sqltypes.FromArrow(f.Type)
	if err != nil {
		return 0, "", sqlerr.New(sqlerr.FeatureNotSupported, "column %q: JSON of Arrow type %s is not supported: %w", f.Name, f.Type, err)
	}
	return k, st.String(), nil
}

// valKind is the kind of a JSON value the scanner found.
type valKind uint8

const (
	vkNull valKind = iota
	vkFalse
	vkTrue
	vkInt    // a number without fraction or exponent
	vkNumber // a number with a fraction or exponent
	vkString
	vkObject
	vkArray
)

// jsonSlot is one column's share of the decoder's per-message scratch.
type jsonSlot struct {
	gen   uint32 // the message (JSONDecoder.gen) that set it; else the key was absent
	exact bool   // the key matched the column name byte for byte
	kind  valKind
	esc   bool // a string with escapes
	start int  // the value's span in the message; strings with their quotes
	end   int

	// Set by convert.
	null     bool
	i        int64 // bool (0, 1), integers, timestamp micros, date days
	f        float64
	iv       arrow.MonthDayNanoInterval
	text     []byte // text from the message
	inBuf    bool   // text is d.buf[bufStart:bufEnd] instead
	bufStart int
	bufEnd   int
}

type jsonCol struct {
	name  string
	kind  jsonKind
	typ   string // SQL type name, for errors
	width int    // of a VARCHAR(n) (SetTextWidth); 0: no limit
}

// JSONDecoder decodes JSON objects, one per message, into the columns of
// a fixed schema. It keeps scratch space between messages, so decoding
// allocates nothing once that has grown to fit the messages; a decoder is
// not safe for concurrent use.
//
// Decoding rules, per message:
//   - The message is one JSON object (RFC 8259, UTF-8), with white space
//     around it allowed and nothing else after it. Strings must be valid
//     UTF-8; a \u escape of a lone surrogate decodes to U+FFFD, as
//     encoding/json does it. Objects and arrays nest at most
//     maxJSONDepth deep.
//   - A key names the column whose name it equals byte for byte, or else
//     the first column (in schema order) whose name it equals ignoring
//     case. A key that names no column is skipped with its value. When
//     keys repeat for one column, an exact match wins over a
//     case-insensitive one, and among equals the last one wins.
//   - An absent key or a JSON null gives NULL.
//   - BOOLEAN takes true or false.
//   - SMALLINT, INTEGER, BIGINT take a number that is an exact integer in
//     the type's range (3, -7, also 3.0 or 1e3, not 3.5).
//   - REAL, DOUBLE PRECISION take any number (one beyond the type's range
//     is an error), and the strings "NaN", "Infinity", "-Infinity" (also
//     "inf" and "+Infinity", in any case).
//   - TEXT takes a string (escapes decoded); a number, true or false as its
//     JSON text; an object or array as its raw JSON text.
//   - TIMESTAMP takes a string: RFC 3339 with a zone (Z, ±hh:mm, ±hhmm or
//     ±hh; converted to UTC), or the same without a zone, read as UTC, with
//     'T' or a space between date and time; a date alone is midnight.
//     Fractions beyond microseconds are rounded. Years outside 0000-9999
//     use ISO 8601's expanded form, a sign and at least 4 digits
//     ("+10000-01-01T00:00:00Z"), as JavaScript writes them. It also takes
//     an integer number of milliseconds since 1970-01-01 UTC.
//   - DATE takes a string "2006-01-02" (expanded years as above).
//   - INTERVAL takes a string in PostgreSQL's interval input syntax
//     ('1 day 02:00:00', '5 minutes', 'P1DT2H').
type JSONDecoder struct {
	cols   []jsonCol
	names  [][]byte
	quoted [][]byte       // `"name"`, for names that need no escapes in JSON; else nil
	exact  map[string]int // name -> column, for wide schemas
	folded map[string]int // lower-case name -> first column, for wide schemas whose names are all ASCII

	slots []jsonSlot
	gen   uint32
	buf   []byte // unescaped strings of the current message
	key   []byte // the unescaped key being matched, or a string value being parsed
	fold  []byte // the lower-cased key being matched
	stack []byte // open containers while skipping a value

	tsCache tsCache
}

// maxJSONDepth bounds the nesting of objects and arrays in a message.
const maxJSONDepth = 10000

// mapColumns is the column count above which key lookup uses maps.
const mapColumns = 8

// NewJSONDecoder returns a decoder for fields (Arrow types as
// sqltypes.Type.Arrow gives them: bool, int16, int32, int64, float32,
// float64, utf8, timestamp[us] without a zone, date32, month_day_nano
// interval). Another type is an error with SQLSTATE 0A000.
func NewJSONDecoder(fields []arrow.Field) (*JSONDecoder, error) {
	d := &JSONDecoder{
		cols:   make([]jsonCol, len(fields)),
		names:  make([][]byte, len(fields)),
		quoted: make([][]byte, len(fields)),
		slots:  make([]jsonSlot, len(fields)),
	}
	ascii := true
	for i, f := range fields {
		k, typ, err := jsonKindOf(f)
		if err != nil {
			return nil, err
		}
		d.cols[i] = jsonCol{name: f.Name, kind: k, typ: typ}
		d.names[i] = []byte(f.Name)
		if plainName(f.Name) {
			d.quoted[i] = []byte(`"` + f.Name + `"`)
		}
		ascii = ascii && isASCII(f.Name)
	}
	if len(fields) > mapColumns {
		d.exact = make(map[string]int, len(fields))
		for i := len(fields) - 1; i >= 0; i-- { // so the first column wins
			d.exact[fields[i].Name] = i
		}
		// With a name that is not ASCII, an ASCII key may equal it
		// ignoring case (the Kelvin sign and 'k'): the loop decides.
		if ascii {
			d.folded = make(map[string]int, len(fields))
			for i := len(fields) - 1; i >= 0; i-- {
				d.folded[strings.ToLower(fields[i].Name)] = i
			}
		}
	}
	return d, nil
}

// SetTextWidth makes text column i refuse a value of more than n
// characters, as a VARCHAR(n) column does (SQLSTATE 22001, `column
// "page": value too long for type character varying(64)`); n <= 0 lifts
// the limit. It does nothing to a column of another type.
func (d *JSONDecoder) SetTextWidth(i, n int) {
	col := &d.cols[i]
	if col.kind != jkText {
		return
	}
	col.width = max(n, 0)
	col.typ = sqltypes.Varchar(col.width).String()
}

// plainName reports whether JSON writes name as it is, between quotes:
// printable ASCII other than '"' and '\\'. (A key written with escapes
// still matches; it takes the slower path.)
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if !strPlain[name[i]] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Decode appends exactly one row decoded from msg to bs (bs[i] is a
// builder of field i's type), or, on an error, appends nothing to any
// builder and returns an error that says what was wrong, naming the column
// where there is one: `column "latency_ms": "abc" is not an integer`,
// `malformed JSON at byte 17: ...` (bytes counted from 0), `not a JSON
// object`. Errors carry SQLSTATE 22P02 (22021 for invalid UTF-8, 22003 for
// a number out of range, 22007 or 22008 for a bad date or time). msg is
// not retained.
func (d *JSONDecoder) Decode(msg []byte, bs []array.Builder) error {
	if len(bs) != len(d.cols) {
		return sqlerr.New(sqlerr.InternalError, "JSON decoder of %d columns given %d builders", len(d.cols), len(bs))
	}
	d.gen++
	if d.gen == 0 {
		for i := range d.slots {
			d.slots[i].gen = 0
		}
		d.gen = 1
	}
	if err := d.scan(msg); err != nil {
		return err
	}
	if err := d.convert(msg, bs); err != nil {
		return err
	}
	d.append(bs)
	return nil
}

// ---- pass 1: scan ----

// strPlain marks the bytes a string's fast loop passes over: ASCII other
// than '"', '\\' and control characters.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(msg []byte, i int) int {
	if i < len(msg) && msg[i] > ' ' { // the common case: no white space
		return i
	}
	for i < len(msg) && isWS(msg[i]) {
		i++
	}
	return i
}

// Word-at-a-time tests on 8 bytes (SWAR).
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// stringStops returns a mask with the high bit set in the lowest byte of
// w (read little endian, so the first in memory) that a string's fast loop
// stops at ('"', '\', a control character, a byte >= 0x80); bytes after
// it may be marked too (borrows), bytes before it are not.
func stringStops(w uint64) uint64 {
	q := w ^ (lsbs * '"')
	b := w ^ (lsbs * '\\')
	return ((q-lsbs)&^q | (b-lsbs)&^b | (w - lsbs*0x20) | w) & msbs
}

// syntaxError is the error for malformed JSON at byte i.
func syntaxError(msg []byte, i int, what string) error {
	if i >= len(msg) {
		return sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON at byte %d: %s, got the end of the message", len(msg), what)
	}
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON at byte %d: %s, got %s", i, what, quoteByte(msg, i))
}

// quoteByte describes the character at msg[i] for an error.
func quoteByte(msg []byte, i int) string {
	r, _ := utf8.DecodeRune(msg[i:])
	if r == utf8.RuneError || r < 0x20 {
		return fmt.Sprintf("byte 0x%02x", msg[i])
	}
	return strconv.QuoteRune(r)
}

// scan validates msg and fills the slots of the columns it names.
func (d *JSONDecoder) scan(msg []byte) error {
	i := skipWS(msg, 0)
	if i == len(msg) {
		return sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON: empty message")
	}
	if msg[i] != '{' {
		_, end, _, err := d.scanValue(msg, i)
		if err != nil {
			return err
		}
		if end = skipWS(msg, end); end < len(msg) {
			return syntaxError(msg, end, "want the end of the message")
		}
		return sqlerr.New(sqlerr.InvalidTextRepresentation, "not a JSON object")
	}
	i = skipWS(msg, i+1)
	if i < len(msg) && msg[i] == '}' {
		return d.scanEnd(msg, i+1)
	}
	// Locals rather than fields in the loop: fewer loads and spills.
	quoted, slots, gen, next := d.quoted, d.slots, d.gen, 0
	for {
		if i >= len(msg) || msg[i] != '"' {
			return syntaxError(msg, i, "want a string key")
		}
		var col int
		var exact bool
		if next < len(quoted) && quoted[next] != nil && bytes.HasPrefix(msg[i:], quoted[next]) {
			// The fast path: the key of the next column, in schema
			// order, without escapes.
			col, exact = next, true
			i += len(quoted[next])
			next++
		} else {
			ke, esc, err := scanString(msg, i)
			if err != nil {
				return err
			}
			col, exact = d.match(msg[i+1:ke-1], esc, next)
			if exact {
				next = col + 1
			}
			i = ke
		}
		i = skipWS(msg, i)
		if i >= len(msg) || msg[i] != ':' {
			return syntaxError(msg, i, "want ':' after an object key")
		}
		i = skipWS(msg, i+1)
		vs := i
		var kind valKind
		var ve int
		var vesc bool
		var err error
		switch {
		case i < len(msg) && msg[i] == '"':
			kind = vkString
			ve, vesc, err = scanString(msg, i)
		case i < len(msg) && (msg[i] == '-' || '0' <= msg[i] && msg[i] <= '9'):
			var isInt bool
			kind = vkNumber
			if ve, isInt, err = scanNumber(msg, i); isInt {
				kind = vkInt
			}
		default:
			kind, ve, vesc, err = d.scanValue(msg, i)
		}
		if err != nil {
			return err
		}
		if col >= 0 {
			s := &slots[col]
			if s.gen != gen || exact || !s.exact {
				s.gen, s.exact, s.kind, s.esc, s.start, s.end = gen, exact, kind, vesc, vs, ve
			}
		}
		i = skipWS(msg, ve)
		if i >= len(msg) {
			return syntaxError(msg, i, "want ',' or '}' after an object member")
		}
		switch msg[i] {
		case ',':
			i = skipWS(msg, i+1)
		case '}':
			return d.scanEnd(msg, i+1)
		default:
			return syntaxError(msg, i, "want ',' or '}' after an object member")
		}
	}
}

// scanEnd checks that only white space follows the object.
func (d *JSONDecoder) scanEnd(msg []byte, i int) error {
	if i = skipWS(msg, i); i < len(msg) {
		return syntaxError(msg, i, "want the end of the message after the object")
	}
	return nil
}

// match returns the column key (raw, between its quotes; escaped if esc)
// names, or -1, and whether it matched exactly. next is the column
// expected next, tried first.
func (d *JSONDecoder) match(key []byte, esc bool, next int) (int, bool) {
	if esc {
		d.key = unescape(d.key[:0], key)
		key = d.key
	}
	n := len(d.cols)
	if n == 0 {
		return -1, false
	}
	if next < n && string(key) == d.cols[next].name {
		return next, true
	}
	if d.exact != nil {
		if c, ok := d.exact[string(key)]; ok {
			return c, true
		}
	} else {
		for c := range d.cols {
			if string(key) == d.cols[c].name {
				return c, true
			}
		}
	}
	if d.folded != nil && isASCII(string(key)) {
		d.fold = append(d.fold[:0], key...)
		for j, c := range d.fold {
			if 'A' <= c && c <= 'Z' {
				d.fold[j] = c + 'a' - 'A'
			}
		}
		if c, ok := d.folded[string(d.fold)]; ok {
			return c, false
		}
		return -1, false
	}
	for c := range d.cols {
		if bytes.EqualFold(key, d.names[c]) {
			return c, false
		}
	}
	return -1, false
}

// scanValue validates the value at msg[i] and returns its kind, its end
// and, for a string, whether it has escapes.
func (d *JSONDecoder) scanValue(msg []byte, i int) (kind valKind, end int, esc bool, err error) {
	if i >= len(msg) {
		return 0, 0, false, syntaxError(msg, i, "want a value")
	}
	switch c := msg[i]; c {
	case '"':
		end, esc, err = scanString(msg, i)
		return vkString, end, esc, err
	case '{':
		end, err = d.skipContainer(msg, i)
		return vkObject, end, false, err
	case '[':
		end, err = d.skipContainer(msg, i)
		return vkArray, end, false, err
	case 't':
		end, err = scanLiteral(msg, i, "true")
		return vkTrue, end, false, err
	case 'f':
		end, err = scanLiteral(msg, i, "false")
		return vkFalse, end, false, err
	case 'n':
		end, err = scanLiteral(msg, i, "null")
		return vkNull, end, false, err
	default:
		if c == '-' || '0' <= c && c <= '9' {
			end, isInt, err := scanNumber(msg, i)
			if isInt {
				return vkInt, end, false, err
			}
			return vkNumber, end, false, err
		}
		return 0, 0, false, syntaxError(msg, i, "want a value")
	}
}

func scanLiteral(msg []byte, i int, lit string) (int, error) {
	if len(msg)-i < len(lit) || string(msg[i:i+len(lit)]) != lit {
		return 0, syntaxError(msg, i, "want a value")
	}
	return i + len(lit), nil
}

// scanString validates the string whose opening quote is msg[i] and
// returns the index after its closing quote and whether it has escapes.
func scanString(msg []byte, i int) (end int, esc bool, err error) {
	start := i
	i++
	for {
		for i+8 <= len(msg) {
			if m := stringStops(binary.LittleEndian.Uint64(msg[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(msg) && strPlain[msg[i]] {
			i++
		}
		if i >= len(msg) {
			return 0, false, sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON at byte %d: the string at byte %d has no closing quote", len(msg), start)
		}
		switch c := msg[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(msg) {
				return 0, false, syntaxError(msg, i+1, "want an escape character after '\\'")
			}
			switch msg[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(msg) || unhex(msg[j]) < 0 {
						return 0, false, syntaxError(msg, j, "want 4 hexadecimal digits after '\\u'")
					}
				}
				i += 6
			default:
				return 0, false, syntaxError(msg, i+1, "want an escape character after '\\'")
			}
		case c < 0x20:
			return 0, false, sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON at byte %d: control character 0x%02x in a string (it must be escaped)", i, c)
		default:
			r, size := utf8.DecodeRune(msg[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, sqlerr.New(sqlerr.CharacterNotInRepertoire, "malformed JSON at byte %d: invalid UTF-8 in a string", i)
			}
			i += size
		}
	}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanNumber validates the number at msg[i] (JSON's grammar:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) and returns its end and
// whether it has neither fraction nor exponent.
func scanNumber(msg []byte, i int) (end int, isInt bool, err error) {
	if msg[i] == '-' {
		i++
	}
	switch {
	case i < len(msg) && msg[i] == '0':
		i++
	case i < len(msg) && '1' <= msg[i] && msg[i] <= '9':
		i++
		for i < len(msg) && isDigit(msg[i]) {
			i++
		}
	default:
		return 0, false, syntaxError(msg, i, "want a digit")
	}
	isInt = true
	if i < len(msg) && msg[i] == '.' {
		isInt = false
		i++
		if i >= len(msg) || !isDigit(msg[i]) {
			return 0, false, syntaxError(msg, i, "want a digit after the decimal point")
		}
		for i < len(msg) && isDigit(msg[i]) {
			i++
		}
	}
	if i < len(msg) && (msg[i] == 'e' || msg[i] == 'E') {
		isInt = false
		i++
		if i < len(msg) && (msg[i] == '+' || msg[i] == '-') {
			i++
		}
		if i >= len(msg) || !isDigit(msg[i]) {
			return 0, false, syntaxError(msg, i, "want a digit in the exponent")
		}
		for i < len(msg) && isDigit(msg[i]) {
			i++
		}
	}
	return i, isInt, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipContainer validates the object or array that starts at msg[i] and
// returns the index after it. It keeps the open containers on d.stack
// rather than recursing.
func (d *JSONDecoder) skipContainer(msg []byte, i int) (int, error) {
	stack := d.stack[:0]
	defer func() { d.stack = stack[:0] }()
	push := func(c byte) error {
		if len(stack) >= maxJSONDepth {
			return sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed JSON at byte %d: nested more than %d deep", i, maxJSONDepth)
		}
		stack = append(stack, c)
		return nil
	}
	if err := push(msg[i]); err != nil {
		return 0, err
	}
	i++
	opened := true // just after '{' or '[': the container may close at once
	for {
		// A member or element (or, right after the opening, the close).
		i = skipWS(msg, i)
		top := stack[len(stack)-1]
		if opened && i < len(msg) && msg[i] == top+2 { // '{'+2 == '}', '['+2 == ']'
			stack = stack[:len(stack)-1]
			i++
		} else {
			if top == '{' {
				if i >= len(msg) || msg[i] != '"' {
					return 0, syntaxError(msg, i, "want a string key")
				}
				end, _, err := scanString(msg, i)
				if err != nil {
					return 0, err
				}
				i = skipWS(msg, end)
				if i >= len(msg) || msg[i] != ':' {
					return 0, syntaxError(msg, i, "want ':' after an object key")
				}
				i = skipWS(msg, i+1)
			}
			if i < len(msg) && (msg[i] == '{' || msg[i] == '[') {
				if err := push(msg[i]); err != nil {
					return 0, err
				}
				i++
				opened = true
				continue
			}
			var err error
			if _, i, _, err = d.scanValue(msg, i); err != nil {
				return 0, err
			}
		}
		// After a value: a comma, or the close of one or more containers.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = skipWS(msg, i)
			top := stack[len(stack)-1]
			if i < len(msg) && msg[i] == ',' {
				i++
				opened = false
				break
			}
			if i < len(msg) && msg[i] == top+2 {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if top == '{' {
				return 0, syntaxError(msg, i, "want ',' or '}' after an object member")
			}
			return 0, syntaxError(msg, i, "want ',' or ']' after an array element")
		}
	}
}

// unescape appends the decoded content of a validated JSON string (the
// bytes between its quotes) to dst. A \u escape of a lone surrogate
// decodes to U+FFFD.
func unescape(dst, s []byte) []byte {
	for len(s) > 0 {
		j := bytes.IndexByte(s, '\\')
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j]...)
		s = s[j:]
		switch s[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[2:])
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:])
				}
				if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
					r = p
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[1])
		}
		s = s[2:]
	}
	return dst
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// ---- pass 2: convert ----

// convert turns every column's slot into its value, and checks that bs
// holds builders of the right types.
func (d *JSONDecoder) convert(msg []byte, bs []array.Builder) error {
	d.buf = d.buf[:0]
	for c := range d.cols {
		col := &d.cols[c]
		if !builderFits(col.kind, bs[c]) {
			return sqlerr.New(sqlerr.InternalError, "JSON decoder: column %q is %s, but its builder is of Arrow type %s", col.name, col.typ, bs[c].Type())
		}
		s := &d.slots[c]
		s.null = s.gen != d.gen || s.kind == vkNull
		if s.null {
			continue
		}
		if err := d.convertSlot(msg, col, s); err != nil {
			for i := range d.slots {
				d.slots[i].text = nil // do not keep the message alive
			}
			return err
		}
	}
	return nil
}

func builderFits(k jsonKind, b array.Builder) bool {
	var ok bool
	switch k {
	case jkBool:
		_, ok = b.(*array.BooleanBuilder)
	case jkInt16:
		_, ok = b.(*array.Int16Builder)
	case jkInt32:
		_, ok = b.(*array.Int32Builder)
	case jkInt64:
		_, ok = b.(*array.Int64Builder)
	case jkFloat32:
		_, ok = b.(*array.Float32Builder)
	case jkFloat64:
		_, ok = b.(*array.Float64Builder)
	case jkText:
		_, ok = b.(*array.StringBuilder)
	case jkTimestamp:
		var tb *array.TimestampBuilder
		if tb, ok = b.(*array.TimestampBuilder); ok {
			t := tb.Type().(*arrow.TimestampType)
			ok = t.Unit == arrow.Microsecond && t.TimeZone == ""
		}
	case jkDate:
		_, ok = b.(*array.Date32Builder)
	case jkInterval:
		_, ok = b.(*array.MonthDayNanoIntervalBuilder)
	}
	return ok
}

// Timestamps the decoder accepts, in microseconds since 1970: Sluice's
// range (package expr), from PostgreSQL's lower bound, 4714-11-24 BC, to
// the last whole second an int64 of microseconds holds (exclusive).
// Dates: PostgreSQL's range, 4714-11-24 BC to 5874897-12-31.
const (
	minTimestampMicros = -210866803200000000
	endTimestampMicros = math.MaxInt64 / 1_000_000 * 1_000_000
	minDateDays        = -2440588   // 4714-11-24 BC, Julian day 0
	maxDateDays        = 2145042905 // 5874897-12-31
)

func (d *JSONDecoder) convertSlot(msg []byte, col *jsonCol, s *jsonSlot) error {
	raw := msg[s.start:s.end]
	switch col.kind {
	case jkBool:
		switch s.kind {
		case vkTrue:
			s.i = 1
		case vkFalse:
			s.i = 0
		default:
			return d.valueError(col, raw, "is not a boolean")
		}
	case jkInt16, jkInt32, jkInt64:
		if s.kind != vkInt && s.kind != vkNumber {
			return d.valueError(col, raw, "is not an integer")
		}
		v, st := parseJSONInt(raw, s.kind == vkInt)
		switch {
		case st == intNotInteger:
			return d.valueError(col, raw, "is not an integer")
		case st == intOutOfRange,
			col.kind == jkInt16 && (v < math.MinInt16 || v > math.MaxInt16),
			col.kind == jkInt32 && (v < math.MinInt32 || v > math.MaxInt32):
			return d.rangeError(col, raw)
		}
		s.i = v
	case jkFloat32, jkFloat64:
		bits := 64
		if col.kind == jkFloat32 {
			bits = 32
		}
		switch s.kind {
		case vkInt, vkNumber:
			f, err := strconv.ParseFloat(string(raw), bits)
			if err != nil {
				return d.rangeError(col, raw)
			}
			s.f = f
		case vkString:
			f, ok := specialFloat(d.stringValue(msg, s))
			if !ok {
				return d.valueError(col, raw, "is not a number")
			}
			s.f = f
		default:
			return d.valueError(col, raw, "is not a number")
		}
	case jkText:
		text := raw
		switch s.kind {
		case vkString:
			if s.esc {
				s.bufStart = len(d.buf)
				d.buf = unescape(d.buf, raw[1:len(raw)-1])
				s.inBuf, s.bufEnd = true, len(d.buf)
				text = d.buf[s.bufStart:]
			} else {
				text = raw[1 : len(raw)-1]
				s.inBuf, s.text = false, text
			}
		default:
			s.inBuf, s.text = false, raw
		}
		if col.width > 0 && len(text) > col.width && utf8.RuneCount(text) > col.width {
			return sqlerr.New(sqlerr.StringDataRightTruncation, "column %q: value too long for type %s", col.name, col.typ)
		}
	case jkTimestamp:
		switch s.kind {
		case vkString:
			us, why := parseTimestampText(d.stringValue(msg, s), &d.tsCache)
			if why != "" {
				return d.datetimeError(col, raw, "timestamp", why)
			}
			s.i = us
		case vkInt, vkNumber:
			ms, st := parseJSONInt(raw, s.kind == vkInt)
			if st == intNotInteger {
				return d.valueError(col, raw, "is not a timestamp (want a string or whole milliseconds since 1970)")
			}
			if st == intOutOfRange || ms >= endTimestampMicros/1000 || ms < minTimestampMicros/1000 {
				return d.datetimeError(col, raw, "timestamp", "out of range")
			}
			s.i = ms * 1000
		default:
			return d.valueError(col, raw, "is not a timestamp")
		}
	case jkDate:
		if s.kind != vkString {
			return d.valueError(col, raw, "is not a date")
		}
		days, why := parseDateText(d.stringValue(msg, s))
		if why != "" {
			return d.datetimeError(col, raw, "date", why)
		}
		s.i = days
	case jkInterval:
		if s.kind != vkString {
			return d.valueError(col, raw, "is not an interval")
		}
		v, err := sqltypes.ParseText(sqltypes.IntervalT, string(d.stringValue(msg, s)))
		if err != nil {
			return sqlerr.New(sqlerr.Code(err), "column %q: %s is not an interval: %w", col.name, clip(raw), err)
		}
		iv := v.(sqltypes.Interval)
		if iv.Micros > math.MaxInt64/1000 || iv.Micros < math.MinInt64/1000 {
			return sqlerr.New(sqlerr.IntervalFieldOverflow, "column %q: %s is out of range for type interval", col.name, clip(raw))
		}
		s.iv = arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000}
	}
	return nil
}

// stringValue returns the content of the string in slot s, unescaped into
// d.key if need be (valid until the next call).
func (d *JSONDecoder) stringValue(msg []byte, s *jsonSlot) []byte {
	content := msg[s.start+1 : s.end-1]
	if !s.esc {
		return content
	}
	d.key = unescape(d.key[:0], content)
	return d.key
}

// clip returns raw JSON text for an error, cut to a readable length.
func clip(raw []byte) string {
	const max = 40
	if len(raw) <= max {
		return string(raw)
	}
	n := max
	for n > 0 && !utf8.RuneStart(raw[n]) {
		n--
	}
	return string(raw[:n]) + "..."
}

func (d *JSONDecoder) valueError(col *jsonCol, raw []byte, what string) error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "column %q: %s %s", col.name, clip(raw), what)
}

func (d *JSONDecoder) rangeError(col *jsonCol, raw []byte) error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "column %q: %s is out of range for type %s", col.name, clip(raw), col.typ)
}

func (d *JSONDecoder) datetimeError(col *jsonCol, raw []byte, typ, why string) error {
	code := sqlerr.InvalidDatetimeFormat
	if strings.HasSuffix(why, "out of range") {
		code = sqlerr.DatetimeFieldOverflow
	}
	return sqlerr.New(code, "column %q: %s is not a %s: %s", col.name, clip(raw), typ, why)
}

// specialFloat parses the strings a float column takes: NaN and the
// infinities.
func specialFloat(s []byte) (float64, bool) {
	if len(s) > 9 {
		return 0, false
	}
	var b [9]byte
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(s)]) {
	case "nan":
		return math.NaN(), true
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	return 0, false
}

// Results of parseJSONInt.
const (
	intOK = iota
	intNotInteger
	intOutOfRange
)

// parseJSONInt returns the validated JSON number b as an int64 if it is an
// exact integer. simple says b has no fraction or exponent.
func parseJSONInt(b []byte, simple bool) (int64, int) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if simple && len(b) <= 18 { // at most 18 digits cannot overflow
		var v int64
		for _, c := range b {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return v, intOK
	}
	// Significant digits (integer part and fraction) and the power of ten
	// that scales them.
	intPart := b
	var frac []byte
	exp := int64(0)
	if k := bytes.IndexAny(b, ".eE"); k >= 0 {
		intPart = b[:k]
		rest := b[k:]
		if rest[0] == '.' {
			rest = rest[1:]
			k = bytes.IndexAny(rest, "eE")
			if k < 0 {
				k = len(rest)
			}
			frac, rest = rest[:k], rest[k:]
		}
		if len(rest) > 0 { // exponent
			rest = rest[1:]
			eneg := rest[0] == '-'
			if rest[0] == '+' || rest[0] == '-' {
				rest = rest[1:]
			}
			for _, c := range rest {
				if exp < 1e9 { // beyond that the answer no longer changes
					exp = exp*10 + int64(c-'0')
				}
			}
			if eneg {
				exp = -exp
			}
		}
	}
	// Strip zeros: leading ones of the integer part, trailing ones of the
	// fraction (and then of the integer part, raising the exponent).
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	exp -= int64(len(frac))
	if len(frac) == 0 {
		for len(intPart) > 0 && intPart[len(intPart)-1] == '0' {
			intPart = intPart[:len(intPart)-1]
			exp++
		}
	}
	if len(intPart) == 0 {
		// Leading zeros of the fraction are not significant either.
		for len(frac) > 0 && frac[0] == '0' {
			frac = frac[1:]
		}
	}
	digits := int64(len(intPart) + len(frac))
	if digits == 0 {
		return 0, intOK
	}
	if exp < 0 {
		return 0, intNotInteger
	}
	if digits+exp > 19 {
		return 0, intOutOfRange
	}
	var u uint64 // below 10^19: fits
	for _, c := range intPart {
		u = u*10 + uint64(c-'0')
	}
	for _, c := range frac {
		u = u*10 + uint64(c-'0')
	}
	for range exp {
		u *= 10
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), intOK
	case neg && u <= 1<<63:
		return int64(-u), intOK // -(1<<63) wraps to itself: MinInt64
	}
	return 0, intOutOfRange
}

// parseDateText parses "2006-01-02" (or an expanded year) as days since
// 1970-01-01; why says what is wrong, "" if nothing.
func parseDateText(s []byte) (int64, string) {
	y, m, dd, i, why := parseDatePart(s)
	if why != "" {
		return 0, why
	}
	if i != len(s) {
		return 0, "want YYYY-MM-DD"
	}
	days := daysFromCivil(y, m, dd)
	if days < minDateDays || days > maxDateDays {
		return 0, "out of range"
	}
	return days, ""
}

// parseDatePart parses the date at the start of s and returns the index
// after it.
func parseDatePart(s []byte) (y int64, m, d, i int, why string) {
	const want = "want YYYY-MM-DD"
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		i = 1
	}
	j := i
	for j < len(s) && isDigit(s[j]) && j-i < 8 {
		y = y*10 + int64(s[j]-'0')
		j++
	}
	switch n := j - i; {
	case i == 0 && n != 4, i == 1 && (n < 4 || n > 7):
		return 0, 0, 0, 0, want
	}
	if neg {
		y = -y
	}
	i = j
	if len(s) < i+6 || s[i] != '-' || s[i+3] != '-' ||
		!isDigit(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+4]) || !isDigit(s[i+5]) {
		return 0, 0, 0, 0, want
	}
	m = int(s[i+1]-'0')*10 + int(s[i+2]-'0')
	d = int(s[i+4]-'0')*10 + int(s[i+5]-'0')
	if m < 1 || m > 12 {
		return 0, 0, 0, 0, "month out of range"
	}
	if d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, 0, "day out of range"
	}
	return y, m, d, i + 6, ""
}

// tsCache remembers the date, hour and minute of the last timestamp
// parsed ("2026-11-21T10:00", 4-digit years only): consecutive events
// mostly share them, and then only the seconds, fraction and zone are
// left to parse.
type tsCache struct {
	prefix [16]byte
	ok     bool
	secs   int64 // the prefix's minute in seconds since 1970, before a zone offset
}

// parseTimestampText parses a timestamp string (see JSONDecoder) as
// microseconds since 1970-01-01 UTC; why says what is wrong, "" if
// nothing. cache may be nil.
func parseTimestampText(s []byte, cache *tsCache) (int64, string) {
	const want = "want RFC 3339, such as 2006-01-02T15:04:05.999Z"
	var secs int64
	var i int
	if cache != nil && cache.ok && len(s) >= len(cache.prefix) && string(s[:len(cache.prefix)]) == string(cache.prefix[:]) {
		secs, i = cache.secs, len(cache.prefix)
	} else {
		y, mo, dd, n, why := parseDatePart(s)
		if why != "" {
			if why == "want YYYY-MM-DD" {
				why = want
			}
			return 0, why
		}
		i = n
		secs = daysFromCivil(y, mo, dd) * 86400
		if i == len(s) { // a date alone
			return checkTimestamp(secs, 0)
		}
		if c := s[i]; c != 'T' && c != 't' && c != ' ' {
			return 0, want
		}
		i++
		if len(s) < i+5 || s[i+2] != ':' || !isDigit(s[i]) || !isDigit(s[i+1]) || !isDigit(s[i+3]) || !isDigit(s[i+4]) {
			return 0, want
		}
		h := int64(s[i]-'0')*10 + int64(s[i+1]-'0')
		mi := int64(s[i+3]-'0')*10 + int64(s[i+4]-'0')
		if h > 23 || mi > 59 {
			return 0, "time out of range"
		}
		i += 5
		secs += h*3600 + mi*60
		if cache != nil && i == len(cache.prefix) {
			copy(cache.prefix[:], s)
			cache.ok, cache.secs = true, secs
		}
	}
	if len(s) < i+3 || s[i] != ':' || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
		return 0, want
	}
	sec := int64(s[i+1]-'0')*10 + int64(s[i+2]-'0')
	if sec > 60 { // 60: a leap second, which runs into the next minute
		return 0, "time out of range"
	}
	secs += sec
	i += 3
	var micros int64
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		scale := int64(100000)
		for ; j < len(s) && isDigit(s[j]); j++ {
			switch {
			case scale > 0:
				micros += int64(s[j]-'0') * scale
				scale /= 10
			case j-i == 6 && s[j] >= '5': // round half up, like PostgreSQL
				micros++
			}
		}
		if j == i {
			return 0, want
		}
		i = j
	}
	if i < len(s) {
		switch c := s[i]; c {
		case 'Z', 'z':
			i++
		case '+', '-':
			off, n, ok := parseZone(s[i+1:])
			if !ok {
				return 0, "want a zone Z, ±hh:mm, ±hhmm or ±hh"
			}
			if c == '+' {
				off = -off
			}
			secs += off
			i += 1 + n
		default:
			return 0, want
		}
	}
	if i != len(s) {
		return 0, want
	}
	return checkTimestamp(secs, micros)
}

// checkTimestamp returns secs and micros (<= 1_000_000) as microseconds,
// or "out of range".
func checkTimestamp(secs, micros int64) (int64, string) {
	if micros == 1_000_000 { // rounding carried
		secs, micros = secs+1, 0
	}
	if secs < minTimestampMicros/1_000_000 || secs >= endTimestampMicros/1_000_000 {
		return 0, "out of range"
	}
	return secs*1_000_000 + micros, ""
}

// parseZone parses "hh:mm", "hhmm" or "hh" at the start of s (an offset
// after its sign) and returns it in seconds and its length.
func parseZone(s []byte) (secs int64, n int, ok bool) {
	two := func(i int) (int64, bool) {
		if len(s) < i+2 || !isDigit(s[i]) || !isDigit(s[i+1]) {
			return 0, false
		}
		return int64(s[i]-'0')*10 + int64(s[i+1]-'0'), true
	}
	h, ok := two(0)
	if !ok || h > 23 {
		return 0, 0, false
	}
	n = 2
	var m int64
	switch {
	case len(s) > 2 && s[2] == ':':
		if m, ok = two(3); !ok {
			return 0, 0, false
		}
		n = 5
	case len(s) > 2:
		if m, ok = two(2); !ok {
			return 0, 0, false
		}
		n = 4
	}
	if m > 59 {
		return 0, 0, false
	}
	return h*3600 + m*60, n, true
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a date of the
// proleptic Gregorian calendar (year 0 is 1 BC). It counts in 400-year
// cycles of 146097 days, with years starting in March so that the leap
// day is the last day of a year.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	cycle := y / 400
	if y < 0 && y%400 != 0 {
		cycle--
	}
	yoc := y - cycle*400                   // year of cycle, [0, 399]
	mar := int64((m + 9) % 12)             // months since March
	doy := (153*mar+2)/5 + int64(d) - 1    // day of the March-based year
	doc := yoc*365 + yoc/4 - yoc/100 + doy // day of cycle
	return cycle*146097 + doc - 719468     // 719468: 0000-03-01 to 1970-01-01
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(days int64) (y int64, m, d int) {
	days += 719468
	cycle := days / 146097
	if days < 0 && days%146097 != 0 {
		cycle--
	}
	doc := days - cycle*146097                             // [0, 146096]
	yoc := (doc - doc/1460 + doc/36524 - doc/146096) / 365 // [0, 399]
	doy := doc - (365*yoc + yoc/4 - yoc/100)               // [0, 365]
	mar := (5*doy + 2) / 153                               // [0, 11]
	d = int(doy - (153*mar+2)/5 + 1)
	m = int(mar + 3)
	if m > 12 {
		m -= 12
	}
	y = yoc + cycle*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// ---- pass 3: append ----

// append appends the converted row; the builders' types were checked by
// convert. Where a builder has room it appends without Append's reserve
// step.
func (d *JSONDecoder) append(bs []array.Builder) {
	for c := range d.cols {
		s := &d.slots[c]
		if s.null {
			bs[c].AppendNull()
			continue
		}
		switch d.cols[c].kind {
		case jkBool:
			b := bs[c].(*array.BooleanBuilder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(s.i != 0)
			} else {
				b.Append(s.i != 0)
			}
		case jkInt16:
			b := bs[c].(*array.Int16Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(int16(s.i))
			} else {
				b.Append(int16(s.i))
			}
		case jkInt32:
			b := bs[c].(*array.Int32Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(int32(s.i))
			} else {
				b.Append(int32(s.i))
			}
		case jkInt64:
			b := bs[c].(*array.Int64Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(s.i)
			} else {
				b.Append(s.i)
			}
		case jkFloat32:
			b := bs[c].(*array.Float32Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(float32(s.f))
			} else {
				b.Append(float32(s.f))
			}
		case jkFloat64:
			b := bs[c].(*array.Float64Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(s.f)
			} else {
				b.Append(s.f)
			}
		case jkText:
			text := s.text
			if s.inBuf {
				text = d.buf[s.bufStart:s.bufEnd]
			}
			b := bs[c].(*array.StringBuilder).BinaryBuilder
			if b.Len() < b.Cap() && b.DataLen()+len(text) <= b.DataCap() {
				b.UnsafeAppend(text)
			} else {
				b.Append(text)
			}
			s.text = nil // do not keep the message alive
		case jkTimestamp:
			b := bs[c].(*array.TimestampBuilder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(arrow.Timestamp(s.i))
			} else {
				b.Append(arrow.Timestamp(s.i))
			}
		case jkDate:
			b := bs[c].(*array.Date32Builder)
			if b.Len() < b.Cap() {
				b.UnsafeAppend(arrow.Date32(s.i))
			} else {
				b.Append(arrow.Date32(s.i))
			}
		case jkInterval:
			bs[c].(*array.MonthDayNanoIntervalBuilder).Append(s.iv)
		}
	}
}

// ---- encoder ----

// JSONEncoder writes rows as JSON objects keyed by column name, in schema
// order: NULL as null; booleans as true and false; integers as numbers;
// floats as the shortest number that reads back to the same value (1e21
// and above, and below 1e-6, with an exponent), and NaN and the
// infinities as the strings "NaN", "Infinity", "-Infinity", as
// PostgreSQL's to_json does; text as a string; timestamps as RFC 3339 in
// UTC with as many fraction digits as needed ("2026-11-21T22:40:52.838Z");
// dates as "2006-01-02" (years outside 0000-9999 in ISO 8601's expanded
// form, "+10000-01-01"); intervals as PostgreSQL prints them ("1 day
// 02:00:00"). JSONDecoder reads what it writes back to the same values.
// An encoder holds no per-row state and is safe for concurrent use.
type JSONEncoder struct {
	kinds []jsonKind
	keys  [][]byte // `{"name":` for the first column, `,"name":` for the others
}

// NewJSONEncoder returns an encoder for rows of schema (types as for
// NewJSONDecoder; another type is a 0A000 error).
func NewJSONEncoder(schema *arrow.Schema) (*JSONEncoder, error) {
	e := &JSONEncoder{
		kinds: make([]jsonKind, schema.NumFields()),
		keys:  make([][]byte, schema.NumFields()),
	}
	for i, f := range schema.Fields() {
		k, _, err := jsonKindOf(f)
		if err != nil {
			return nil, err
		}
		e.kinds[i] = k
		key := []byte{','}
		if i == 0 {
			key[0] = '{'
		}
		key = appendJSONString(key, f.Name)
		e.keys[i] = append(key, ':')
	}
	return e, nil
}

// Append appends row row of cols (cols[i] is a column of schema field i)
// as one JSON object to dst and returns the extended buffer.
func (e *JSONEncoder) Append(dst []byte, cols []arrow.Array, row int) []byte {
	if len(e.kinds) == 0 {
		return append(dst, "{}"...)
	}
	for c, k := range e.kinds {
		dst = append(dst, e.keys[c]...)
		a := cols[c]
		if a.IsNull(row) {
			dst = append(dst, "null"...)
			continue
		}
		switch k {
		case jkBool:
			if a.(*array.Boolean).Value(row) {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		case jkInt16:
			dst = strconv.AppendInt(dst, int64(a.(*array.Int16).Value(row)), 10)
		case jkInt32:
			dst = strconv.AppendInt(dst, int64(a.(*array.Int32).Value(row)), 10)
		case jkInt64:
			dst = strconv.AppendInt(dst, a.(*array.Int64).Value(row), 10)
		case jkFloat32:
			dst = appendJSONFloat(dst, float64(a.(*array.Float32).Value(row)), 32)
		case jkFloat64:
			dst = appendJSONFloat(dst, a.(*array.Float64).Value(row), 64)
		case jkText:
			dst = appendJSONString(dst, a.(*array.String).Value(row))
		case jkTimestamp:
			dst = appendJSONTimestamp(dst, int64(a.(*array.Timestamp).Value(row)))
		case jkDate:
			dst = append(dst, '"')
			dst = appendDate(dst, int64(a.(*array.Date32).Value(row)))
			dst = append(dst, '"')
		case jkInterval:
			v := a.(*array.MonthDayNanoInterval).Value(row)
			dst = append(dst, '"')
			dst = sqltypes.AppendInterval(dst, sqltypes.Interval{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000})
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}

// appendJSONFloat appends f as a JSON number, or NaN and the infinities as
// strings.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, bits)
		// "1e-07" -> "1e-7": drop the exponent's leading zero.
		if k := len(dst); k-n >= 4 && dst[k-4] == 'e' && dst[k-2] == '0' {
			dst[k-2] = dst[k-1]
			dst = dst[:k-1]
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped, as encoding/json does, so the
// output is also valid JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if strPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', byte('0'+r-'\u2020'))
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONTimestamp appends microseconds since 1970 as a quoted RFC 3339
// UTC timestamp with the fraction digits needed.
func appendJSONTimestamp(dst []byte, us int64) []byte {
	secs := us / 1_000_000
	frac := us % 1_000_000
	if frac < 0 {
		secs--
		frac += 1_000_000
	}
	days := secs / 86400
	sod := secs % 86400
	if sod < 0 {
		days--
		sod += 86400
	}
	dst = append(dst, '"')
	dst = appendDate(dst, days)
	dst = append(dst, 'T')
	dst = append2(dst, sod/3600)
	dst = append(dst, ':')
	dst = append2(dst, sod/60%60)
	dst = append(dst, ':')
	dst = append2(dst, sod%60)
	if frac != 0 {
		var f [7]byte
		f[0] = '.'
		for i := 6; i >= 1; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 7
		for f[n-1] == '0' {
			n--
		}
		dst = append(dst, f[:n]...)
	}
	return append(dst, 'Z', '"')
}

// appendDate appends days since 1970 as YYYY-MM-DD; a year outside
// 0000-9999 gets a sign and at least 6 digits (ISO 8601 expanded, as
// JavaScript writes it).
func appendDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	switch {
	case y >= 0 && y <= 9999:
		dst = append2(dst, y/100)
		dst = append2(dst, y%100)
	default:
		if y < 0 {
			dst = append(dst, '-')
			y = -y
		} else {
			dst = append(dst, '+')
		}
		for p := int64(100000); p > y && p > 1; p /= 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendInt(dst, y, 10)
	}
	dst = append(dst, '-')
	dst = append2(dst, int64(m))
	dst = append(dst, '-')
	return append2(dst, int64(d))
}

// append2 appends 0 <= n < 100 as two digits.
func append2(dst []byte, n int64) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}
