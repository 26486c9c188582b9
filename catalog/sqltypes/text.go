package sqltypes

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file holds PostgreSQL 15's text input and output of every Sluice
// type, as a server with the default settings (DateStyle ISO, MDY;
// IntervalStyle postgres; extra_float_digits 1; TimeZone UTC) produces and
// accepts it. Answers were checked against a real PostgreSQL 15.
//
// Deliberate differences from PostgreSQL's input functions:
//   - timestamp and date accept ISO forms only (year first, '-' or '/'
//     separated or 8 digits, optional time, optional zone which is ignored,
//     AD/BC, AM/PM); month names and day-first or month-first orders are
//     refused. The words now, today, tomorrow, yesterday and infinity are
//     refused with 0A000: time.Time has no infinity, and a literal frozen
//     at planning time is a trap in a continuous query.
//   - interval accepts PostgreSQL's postgres-style input and ISO 8601's
//     "format with designators" (P1Y2M3DT4H5M6S), not its alternative
//     format (P0001-02-03T04:05:06).

// SQLSTATEs that sqlerr has no name for yet.
const (
	intervalFieldOverflow       = sqlerr.IntervalFieldOverflow
	invalidTimeZoneDisplacement = sqlerr.InvalidTimeZoneDisplacement
)

// Microseconds per unit.
const (
	usPerSecond = int64(1_000_000)
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour
)

// FormatText returns PostgreSQL's text output of v (a Go value of type t,
// see package doc); v must not be nil. A value of an unexpected Go type is
// formatted with fmt.Sprint.
func FormatText(t Type, v any) string {
	return string(AppendText(nil, t, v))
}

// AppendText appends the text output of v (see FormatText) to buf and
// returns the extended buffer.
func AppendText(buf []byte, t Type, v any) []byte {
	switch t.Kind {
	case KindBool:
		if b, ok := v.(bool); ok {
			if b {
				return append(buf, 't')
			}
			return append(buf, 'f')
		}
	case KindInt16, KindInt32, KindInt64:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(buf, x, 10)
		case int32:
			return strconv.AppendInt(buf, int64(x), 10)
		case int16:
			return strconv.AppendInt(buf, int64(x), 10)
		case int:
			return strconv.AppendInt(buf, int64(x), 10)
		}
	case KindFloat32:
		switch x := v.(type) {
		case float64:
			return AppendFloat(buf, x, 32)
		case float32:
			return AppendFloat(buf, float64(x), 32)
		}
	case KindFloat64:
		switch x := v.(type) {
		case float64:
			return AppendFloat(buf, x, 64)
		case float32:
			return AppendFloat(buf, float64(x), 64)
		}
	case KindText, KindUnknown:
		if s, ok := v.(string); ok {
			return append(buf, s...)
		}
	case KindTimestamp:
		if ts, ok := v.(time.Time); ok {
			return AppendTimestamp(buf, ts)
		}
	case KindDate:
		if d, ok := v.(time.Time); ok {
			return AppendDate(buf, d)
		}
	case KindInterval:
		if iv, ok := v.(Interval); ok {
			return AppendInterval(buf, iv)
		}
	}
	return fmt.Append(buf, v)
}

// AppendFloat appends PostgreSQL's output of a float4 (bitSize 32) or
// float8 (bitSize 64) value: the shortest digits that read back to the
// same value, in positional notation when the decimal exponent is in
// [-4, 6) for float4 or [-4, 15) for float8, and as d.ddde+XX otherwise.
func AppendFloat(buf []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	// The decimal exponent of the shortest digits is in [-4, limit)
	// exactly when the value is at least the float nearest 1e-4 and below
	// 10^limit (a power of ten that floats hold exactly).
	abs := math.Abs(f)
	fixed := abs >= 1e-4 && abs < 1e15 || abs == 0
	if bitSize == 32 {
		a32 := float32(abs)
		fixed = a32 >= 1e-4 && a32 < 1e6 || a32 == 0
	}
	if !fixed {
		return appendFloatExp(buf, f, bitSize)
	}
	return strconv.AppendFloat(buf, f, 'f', -1, bitSize)
}

// appendFloatExp appends f as d.ddde+XX with PostgreSQL's digits. Go's
// shortest digits may lie exactly halfway between f and a neighbour (they
// read back as f under round-half-to-even); PostgreSQL's Ryu treats those
// bounds as outside, so it prints one or more digits more. That can only
// happen to integers of at least 2^53 (2^24 for float4), whose halfway
// points are integers with few enough significant digits.
func appendFloatExp(buf []byte, f float64, bitSize int) []byte {
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'e', -1, bitSize)
	limit, maxDigits := 0x1p53, 17
	if bitSize == 32 {
		limit, maxDigits = 0x1p24, 9
	}
	if math.Abs(f) < limit {
		return buf
	}
	for {
		mant, exp, _ := strings.Cut(string(buf[start:]), "e")
		digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
		if len(digits) >= maxDigits || !onRoundingBound(f, bitSize, digits, exp) {
			return buf
		}
		buf = strconv.AppendFloat(buf[:start], f, 'e', len(digits), bitSize)
	}
}

// onRoundingBound reports whether the decimal digits x 10^(exp-len+1)
// equals |f| plus or minus half the gap to its neighbour; f is an integer.
func onRoundingBound(f float64, bitSize int, digits, exp string) bool {
	e, err := strconv.Atoi(exp)
	if err != nil {
		return false
	}
	k := e - (len(digits) - 1)
	if k < 0 {
		return false
	}
	d, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return false
	}
	d.Mul(d, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	d.Lsh(d, 1) // twice the decimal value
	abs := math.Abs(f)
	var up, down float64
	if bitSize == 32 {
		a := float32(abs)
		up = float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
		down = float64(a - math.Nextafter32(a, 0))
	} else {
		up = math.Nextafter(abs, math.Inf(1)) - abs
		down = abs - math.Nextafter(abs, 0)
	}
	twice, _ := new(big.Float).SetFloat64(abs).Int(nil)
	twice.Lsh(twice, 1)
	if !math.IsInf(up, 0) {
		hi, _ := new(big.Float).SetFloat64(up).Int(nil)
		if d.Cmp(hi.Add(hi, twice)) == 0 {
			return true
		}
	}
	lo, _ := new(big.Float).SetFloat64(down).Int(nil)
	return d.Cmp(lo.Sub(twice, lo)) == 0
}

// AppendTimestamp appends ts (read in UTC) as PostgreSQL prints a
// timestamp: "2006-01-02 15:04:05[.ffffff]" with trailing zeros of the
// fraction trimmed, and " BC" for years before 1 AD.
func AppendTimestamp(buf []byte, ts time.Time) []byte {
	ts = ts.UTC()
	y, month, day := ts.Date()
	hour, minute, sec := ts.Clock()
	year, bc := pgYear(y)
	buf = appendDateParts(buf, year, int(month), day)
	buf = append(buf, ' ')
	buf = appendPad2(buf, int64(hour))
	buf = append(buf, ':')
	buf = appendPad2(buf, int64(minute))
	buf = append(buf, ':')
	buf = appendPad2(buf, int64(sec))
	buf = appendFraction(buf, int64(ts.Nanosecond()/1000))
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// AppendDate appends the date of d (read in UTC) as "2006-01-02", with
// " BC" for years before 1 AD.
func AppendDate(buf []byte, d time.Time) []byte {
	y, month, day := d.UTC().Date()
	year, bc := pgYear(y)
	buf = appendDateParts(buf, year, int(month), day)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// pgYear turns an astronomical year (0 is 1 BC) into a year and era.
func pgYear(y int) (int, bool) {
	if y <= 0 {
		return 1 - y, true
	}
	return y, false
}

func appendDateParts(buf []byte, year, month, day int) []byte {
	if year < 1000 {
		buf = append(buf, "000"[:4-digits(int64(year))]...)
	}
	buf = strconv.AppendInt(buf, int64(year), 10)
	buf = append(buf, '-')
	buf = appendPad2(buf, int64(month))
	buf = append(buf, '-')
	return appendPad2(buf, int64(day))
}

func digits(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// appendPad2 appends a non-negative n with at least two digits.
func appendPad2(buf []byte, n int64) []byte {
	if n < 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, n, 10)
}

// appendFraction appends ".ffffff" for a non-negative count of
// microseconds below one second, trailing zeros trimmed; nothing for 0.
func appendFraction(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	var f [7]byte
	f[0] = '.'
	for i := 6; i >= 1; i-- {
		f[i] = byte('0' + us%10)
		us /= 10
	}
	n := 7
	for f[n-1] == '0' {
		n--
	}
	return append(buf, f[:n]...)
}

// AppendInterval appends iv in PostgreSQL's IntervalStyle postgres:
// "1 year 2 mons -3 days +04:05:06.5". A field after a negative one
// carries an explicit sign; the time part appears when non-zero or when
// every field is zero.
func AppendInterval(buf []byte, iv Interval) []byte {
	years := int64(iv.Months / 12)
	months := int64(iv.Months % 12)
	zero, before := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !zero {
			buf = append(buf, ' ')
		}
		if before && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		before = v < 0
		zero = false
	}
	part(years, "year")
	part(months, "mon")
	part(int64(iv.Days), "day")
	if zero || iv.Micros != 0 {
		us := iv.Micros
		if !zero {
			buf = append(buf, ' ')
		}
		// Work on the magnitude; -9223372036854775808 has none in int64,
		// so take it apart in uint64.
		mag := uint64(us)
		if us < 0 {
			buf = append(buf, '-')
			mag = -mag
		} else if before {
			buf = append(buf, '+')
		}
		hours := mag / uint64(usPerHour)
		rest := int64(mag % uint64(usPerHour))
		if hours < 10 {
			buf = append(buf, '0')
		}
		buf = strconv.AppendUint(buf, hours, 10)
		buf = append(buf, ':')
		buf = appendPad2(buf, rest/usPerMinute)
		buf = append(buf, ':')
		buf = appendPad2(buf, rest%usPerMinute/usPerSecond)
		buf = appendFraction(buf, rest%usPerSecond)
	}
	return buf
}

// ParseText parses PostgreSQL's text input for type t (leading and
// trailing white space is allowed for numbers, booleans and date/time
// types; text is taken as is). Errors carry PostgreSQL's SQLSTATE and
// message: 22P02 for malformed booleans and numbers, 22003 for numbers out
// of range, 22007 for malformed date/time values, 22008 for date/time
// fields out of range.
func ParseText(t Type, s string) (any, error) {
	switch t.Kind {
	case KindBool:
		return parseBool(s)
	case KindInt16:
		return parseInt(s, 16, t)
	case KindInt32:
		return parseInt(s, 32, t)
	case KindInt64:
		return parseInt(s, 64, t)
	case KindFloat32:
		return parseFloat(s, 32, t)
	case KindFloat64:
		return parseFloat(s, 64, t)
	case KindText, KindUnknown:
		return s, nil
	case KindTimestamp:
		return parseTimestamp(s, false, false)
	case KindDate:
		return parseTimestamp(s, true, false)
	case KindInterval:
		return parseInterval(s)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "no text input for type %s", t)
}

// isSpace is C's isspace in the C locale, which PostgreSQL uses to trim.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func invalidSyntax(code, typ, s string) error {
	return sqlerr.New(code, "invalid input syntax for type %s: \"%s\"", typ, s)
}

// parseBool accepts, case-insensitively, any prefix of true, yes, false
// or no, on and off (at least "of"), and 1 and 0.
func parseBool(s string) (bool, error) {
	w := strings.ToLower(trimSpace(s))
	switch {
	case w == "":
	case w == "1":
		return true, nil
	case w == "0":
		return false, nil
	case strings.HasPrefix("true", w), strings.HasPrefix("yes", w):
		return true, nil
	case strings.HasPrefix("false", w), strings.HasPrefix("no", w):
		return false, nil
	case w == "on":
		return true, nil
	case len(w) >= 2 && strings.HasPrefix("off", w):
		return false, nil
	}
	return false, invalidSyntax(sqlerr.InvalidTextRepresentation, "boolean", s)
}

// parseInt accepts optional white space, an optional sign and decimal
// digits, as PostgreSQL 15 does (no underscores, no hex).
func parseInt(s string, bits int, t Type) (int64, error) {
	w := trimSpace(s)
	digits := w
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, invalidSyntax(sqlerr.InvalidTextRepresentation, t.String(), s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, invalidSyntax(sqlerr.InvalidTextRepresentation, t.String(), s)
		}
	}
	n, err := strconv.ParseInt(w, 10, bits)
	if err != nil {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, t)
	}
	return n, nil
}

// parseFloat accepts what C's strtod accepts (decimal and hexadecimal
// forms, inf, infinity, nan, each with a sign) between optional white
// space. A value that overflows, or underflows to zero, is out of range.
func parseFloat(s string, bits int, t Type) (float64, error) {
	w := trimSpace(s)
	body := w
	neg := false
	if len(body) > 0 && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	lower := strings.ToLower(body)
	if isNaNWord(lower) {
		return math.NaN(), nil
	}
	if lower == "inf" || lower == "infinity" {
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if body == "" || strings.ContainsRune(body, '_') {
		// Go reads underscores between digits of a hexadecimal float.
		return 0, invalidSyntax(sqlerr.InvalidTextRepresentation, t.String(), s)
	}
	num := w
	if strings.HasPrefix(lower, "0x") && !strings.ContainsRune(lower, 'p') {
		num += "p0" // strtod reads hex without a binary exponent, Go does not
	}
	f, err := strconv.ParseFloat(num, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, t)
		}
		return 0, invalidSyntax(sqlerr.InvalidTextRepresentation, t.String(), s)
	}
	if f == 0 && hasNonZeroMantissa(lower) {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, t)
	}
	return f, nil
}

// isNaNWord reports whether w is "nan" or glibc's "nan(chars)".
func isNaNWord(w string) bool {
	if w == "nan" {
		return true
	}
	if !strings.HasPrefix(w, "nan(") || !strings.HasSuffix(w, ")") {
		return false
	}
	for _, c := range w[4 : len(w)-1] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// hasNonZeroMantissa reports whether a number's digits before its
// exponent hold a non-zero digit: such a number parsed as zero underflowed.
func hasNonZeroMantissa(lower string) bool {
	hex := strings.HasPrefix(lower, "0x")
	if hex {
		lower = lower[2:]
	}
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		switch {
		case !hex && c == 'e', hex && c == 'p':
			return false
		case c >= '1' && c <= '9', hex && c >= 'a' && c <= 'f':
			return true
		}
	}
	return false
}

// Range of PostgreSQL's timestamp and date (Julian day 0 onwards).
var (
	minTimestamp = time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	endTimestamp = time.Date(294277, time.January, 1, 0, 0, 0, 0, time.UTC)
	endDate      = time.Date(5874898, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// dtScanner reads a date/time string left to right.
type dtScanner struct {
	s   string
	pos int
}

func (sc *dtScanner) peek() byte {
	if sc.pos < len(sc.s) {
		return sc.s[sc.pos]
	}
	return 0
}

func (sc *dtScanner) digits() string {
	start := sc.pos
	for sc.pos < len(sc.s) && sc.s[sc.pos] >= '0' && sc.s[sc.pos] <= '9' {
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

func (sc *dtScanner) letters() string {
	start := sc.pos
	for sc.pos < len(sc.s) && isLetter(sc.s[sc.pos]) {
		sc.pos++
	}
	return strings.ToLower(sc.s[start:sc.pos])
}

func (sc *dtScanner) skipSpace() bool {
	start := sc.pos
	for sc.pos < len(sc.s) && isSpace(sc.s[sc.pos]) {
		sc.pos++
	}
	return sc.pos > start
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ParseTimestampTZ parses PostgreSQL's text input of a timestamp with time
// zone, as a client sends it for a parameter it declared timestamptz: like
// ParseText(Timestamp, s), but a zone offset in s ("+05:30", "-08", "Z")
// is applied rather than ignored, giving the instant in UTC. Without an
// offset s is read as UTC, the session time zone.
func ParseTimestampTZ(s string) (time.Time, error) {
	return parseTimestamp(s, false, true)
}

// parseTimestamp parses a timestamp, or a date when dateOnly (the time of
// day, if any, is checked and dropped). A zone offset is applied when
// withZone and ignored otherwise.
func parseTimestamp(s string, dateOnly, withZone bool) (time.Time, error) {
	typ := "timestamp"
	if dateOnly {
		typ = "date"
	}
	syntax := func() error { return invalidSyntax(sqlerr.InvalidDatetimeFormat, typ, s) }
	fieldRange := func() error {
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
	}
	w := trimSpace(s)
	switch lw := strings.ToLower(w); lw {
	case "epoch":
		return time.Unix(0, 0).UTC(), nil
	case "infinity", "+infinity", "-infinity", "now", "today", "tomorrow", "yesterday":
		return time.Time{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s input \"%s\" is not supported", typ, s)
	}

	sc := &dtScanner{s: w}
	// Date: Y-M-D or Y/M/D with a year of at least three digits, or YYYYMMDD.
	var year, month, day int
	ys := sc.digits()
	if sep := sc.peek(); sep == '-' || sep == '/' {
		sc.pos++
		ms := sc.digits()
		if sc.peek() != sep || len(ms) == 0 || len(ms) > 2 {
			return time.Time{}, syntax()
		}
		sc.pos++
		ds := sc.digits()
		if len(ds) == 0 || len(ds) > 2 {
			return time.Time{}, syntax()
		}
		if len(ys) < 3 {
			return time.Time{}, syntax()
		}
		if len(ys) > 7 {
			return time.Time{}, fieldRange()
		}
		year, month, day = atoi(ys), atoi(ms), atoi(ds)
	} else if len(ys) == 8 {
		year, month, day = atoi(ys[:4]), atoi(ys[4:6]), atoi(ys[6:])
	} else {
		return time.Time{}, syntax()
	}

	// Time of day, after 'T' or white space.
	var hour, minute, sec int
	var frac string
	haveTime := false
	if c := sc.peek(); c == 'T' || c == 't' || isSpace(c) {
		save := sc.pos
		if !sc.skipSpace() {
			sc.pos++
		}
		if c := sc.peek(); c >= '0' && c <= '9' {
			hs := sc.digits()
			switch {
			case len(hs) == 6 && sc.peek() != ':':
				hour, minute, sec = atoi(hs[:2]), atoi(hs[2:4]), atoi(hs[4:])
			case len(hs) <= 2 && sc.peek() == ':':
				sc.pos++
				ms := sc.digits()
				if len(ms) == 0 || len(ms) > 2 {
					return time.Time{}, syntax()
				}
				hour, minute = atoi(hs), atoi(ms)
				if sc.peek() == ':' {
					sc.pos++
					ss := sc.digits()
					if len(ss) == 0 || len(ss) > 2 {
						return time.Time{}, syntax()
					}
					sec = atoi(ss)
				}
			default:
				return time.Time{}, syntax()
			}
			if sc.peek() == '.' {
				sc.pos++
				frac = sc.digits()
			}
			haveTime = true
		} else if c == 0 || w[save] == 'T' || w[save] == 't' {
			return time.Time{}, syntax()
		} else {
			sc.pos = save
		}
	}

	// Trailing words: a zone (ignored: this is timestamp without time
	// zone), AD or BC, AM or PM.
	bc, zone := false, false
	offset := 0 // seconds east of UTC
	ampm := ""
	for {
		sc.skipSpace()
		c := sc.peek()
		if c == 0 {
			break
		}
		switch {
		case (c == '+' || c == '-') && !zone && haveTime:
			sc.pos++
			// +h, +hh, +hhmm, each optionally followed by :mm (not after
			// hhmm) and :ss.
			var parts []int
			switch ds := sc.digits(); len(ds) {
			case 1, 2:
				parts = append(parts, atoi(ds))
			case 4:
				parts = append(parts, atoi(ds[:2]), atoi(ds[2:]))
			default:
				return time.Time{}, syntax()
			}
			for len(parts) < 3 && sc.peek() == ':' {
				sc.pos++
				ds := sc.digits()
				if len(ds) == 0 || len(ds) > 2 {
					return time.Time{}, syntax()
				}
				parts = append(parts, atoi(ds))
			}
			parts = append(parts, 0, 0)
			h, m, sec := parts[0], parts[1], parts[2]
			if h > 15 || m > 59 || sec > 59 {
				return time.Time{}, sqlerr.New(invalidTimeZoneDisplacement, "time zone displacement out of range: \"%s\"", s)
			}
			offset = h*3600 + m*60 + sec
			if c == '-' {
				offset = -offset
			}
			zone = true
		case isLetter(c):
			switch word := sc.letters(); {
			case (word == "z" || word == "zulu" || word == "utc" || word == "gmt") && !zone:
				zone = true
			case word == "bc" && !bc:
				bc = true
			case word == "ad" && !bc:
			case (word == "am" || word == "pm") && ampm == "" && haveTime:
				ampm = word
			default:
				return time.Time{}, syntax()
			}
		default:
			return time.Time{}, syntax()
		}
	}

	// Field ranges.
	if year == 0 || month < 1 || month > 12 || day < 1 {
		return time.Time{}, fieldRange()
	}
	if bc {
		year = 1 - year
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, fieldRange()
	}
	us := int64(0)
	if frac != "" {
		f, _ := strconv.ParseFloat("0."+frac, 64)
		us = int64(math.RoundToEven(f * 1e6))
	}
	switch ampm {
	case "am", "pm":
		if hour > 12 {
			return time.Time{}, fieldRange()
		}
		hour %= 12
		if ampm == "pm" {
			hour += 12
		}
	}
	if hour > 24 || minute > 59 || sec > 60 ||
		hour == 24 && (minute > 0 || sec > 0 || us > 0) {
		return time.Time{}, fieldRange()
	}

	if dateOnly {
		d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if d.Before(minTimestamp) || !d.Before(endDate) {
			return time.Time{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range: \"%s\"", s)
		}
		return d, nil
	}
	ts := time.Date(year, time.Month(month), day, hour, minute, sec, int(us)*1000, time.UTC)
	if withZone {
		ts = ts.Add(-time.Duration(offset) * time.Second)
	}
	if ts.Before(minTimestamp) || !ts.Before(endTimestamp) {
		return time.Time{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	return ts, nil
}

// Interval fields, as bits of the mask that catches a field given twice.
const (
	ivYear = 1 << iota
	ivMonth
	ivDay
	ivHour
	ivMinute
	ivSecond
	ivMillisecond
	ivMicrosecond
	ivWeek
	ivDecade
	ivCentury
	ivMillennium

	ivAllSeconds = ivSecond | ivMillisecond | ivMicrosecond
	ivTime       = ivHour | ivMinute | ivAllSeconds
)

// intervalUnit returns the field a unit word (cut to ten letters, as
// PostgreSQL does) names.
func intervalUnit(word string) (int, bool) {
	switch word {
	case "c", "cent", "centuries", "century":
		return ivCentury, true
	case "d", "day", "days":
		return ivDay, true
	case "dec", "decade", "decades", "decs":
		return ivDecade, true
	case "h", "hour", "hours", "hr", "hrs":
		return ivHour, true
	case "m", "min", "mins", "minute", "minutes":
		return ivMinute, true
	case "microsecon", "us", "usec", "usecond", "useconds", "usecs":
		return ivMicrosecond, true
	case "mil", "millennia", "millennium", "mils":
		return ivMillennium, true
	case "millisecon", "ms", "msec", "msecond", "mseconds", "msecs":
		return ivMillisecond, true
	case "mon", "mons", "month", "months":
		return ivMonth, true
	case "s", "sec", "second", "seconds", "secs":
		return ivSecond, true
	case "w", "week", "weeks":
		return ivWeek, true
	case "y", "year", "years", "yr", "yrs":
		return ivYear, true
	}
	return 0, false
}

// ivToken is one field of an interval string.
type ivToken struct {
	kind byte // 'n' number, 't' time (has a colon), 'w' word
	text string
}

// ivAccum accumulates an interval as PostgreSQL does before it folds years
// into months, with overflow checks.
type ivAccum struct {
	years, months, days int32
	us                  int64
}

// ivOverflow marks a field overflow while accumulating.
type ivOverflow struct{}

func (ivOverflow) Error() string { return "interval field value out of range" }

func addInt32(a *int32, v int64) error {
	r := int64(*a) + v
	if r < math.MinInt32 || r > math.MaxInt32 {
		return ivOverflow{}
	}
	*a = int32(r)
	return nil
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

func addInt64(a, b int64) (int64, bool) {
	r := a + b
	if (b > 0 && r < a) || (b < 0 && r > a) {
		return 0, false
	}
	return r, true
}

// addFracMicros adds frac*scale microseconds, rounding like PostgreSQL
// (truncate, then round the remainder half to even).
func (a *ivAccum) addFracMicros(frac float64, scale int64) error {
	if frac == 0 {
		return nil
	}
	x := frac * float64(scale)
	t := math.Trunc(x)
	us := int64(t) + int64(math.RoundToEven(x-t))
	r, ok := addInt64(a.us, us)
	if !ok {
		return ivOverflow{}
	}
	a.us = r
	return nil
}

func (a *ivAccum) addMicros(val int64, frac float64, scale int64) error {
	v, ok := mulInt64(val, scale)
	if !ok {
		return ivOverflow{}
	}
	if a.us, ok = addInt64(a.us, v); !ok {
		return ivOverflow{}
	}
	return a.addFracMicros(frac, scale)
}

func (a *ivAccum) addDays(val int64, scale int64) error {
	v, ok := mulInt64(val, scale)
	if !ok {
		return ivOverflow{}
	}
	return addInt32(&a.days, v)
}

// addFracDays adds frac*scale days: whole days to days, the rest as time.
func (a *ivAccum) addFracDays(frac float64, scale int64) error {
	if frac == 0 {
		return nil
	}
	x := frac * float64(scale)
	whole := math.Trunc(x)
	if err := addInt32(&a.days, int64(whole)); err != nil {
		return err
	}
	return a.addFracMicros(x-whole, usPerDay)
}

func (a *ivAccum) addYears(val int64, frac float64, scale int64) error {
	v, ok := mulInt64(val, scale)
	if !ok {
		return ivOverflow{}
	}
	if err := addInt32(&a.years, v); err != nil {
		return err
	}
	return addInt32(&a.months, int64(math.RoundToEven(frac*float64(scale)*12)))
}

// add adds val (and fraction frac) of field f.
func (a *ivAccum) add(f int, val int64, frac float64) error {
	switch f {
	case ivMicrosecond:
		return a.addMicros(val, frac, 1)
	case ivMillisecond:
		return a.addMicros(val, frac, 1000)
	case ivSecond:
		return a.addMicros(val, frac, usPerSecond)
	case ivMinute:
		return a.addMicros(val, frac, usPerMinute)
	case ivHour:
		return a.addMicros(val, frac, usPerHour)
	case ivDay:
		if err := a.addDays(val, 1); err != nil {
			return err
		}
		return a.addFracMicros(frac, usPerDay)
	case ivWeek:
		if err := a.addDays(val, 7); err != nil {
			return err
		}
		return a.addFracDays(frac, 7)
	case ivMonth:
		if err := addInt32(&a.months, val); err != nil {
			return err
		}
		return a.addFracDays(frac, 30)
	case ivYear:
		return a.addYears(val, frac, 1)
	case ivDecade:
		return a.addYears(val, frac, 10)
	case ivCentury:
		return a.addYears(val, frac, 100)
	case ivMillennium:
		return a.addYears(val, frac, 1000)
	}
	return fmt.Errorf("interval field %d unknown", f)
}

func (a *ivAccum) interval() (Interval, error) {
	months := int64(a.years)*12 + int64(a.months)
	if months < math.MinInt32 || months > math.MaxInt32 {
		return Interval{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
	}
	return Interval{Months: int32(months), Days: a.days, Micros: a.us}, nil
}

// parseInterval parses PostgreSQL's interval input: fields of a number
// and a unit ("1 day 2 hours", "5s", "1.5 weeks"), an hh:mm[:ss[.f]]
// time, a bare number (seconds, or days before a time), "y-m" years and
// months, a trailing "ago" that negates it all; or ISO 8601 "P1DT2H".
func parseInterval(s string) (Interval, error) {
	syntax := func() error { return invalidSyntax(sqlerr.InvalidDatetimeFormat, "interval", s) }
	overflow := func() error {
		return sqlerr.New(intervalFieldOverflow, "interval field value out of range: \"%s\"", s)
	}
	w := trimSpace(s)
	if strings.HasPrefix(w, "P") {
		a, err := parseISOInterval(w[1:])
		if errors.Is(err, errIvSyntax) {
			return Interval{}, syntax()
		} else if err != nil {
			return Interval{}, overflow()
		}
		return a.interval()
	}
	toks, ok := tokenizeInterval(w)
	if !ok || len(toks) == 0 {
		return Interval{}, syntax()
	}

	var a ivAccum
	mask := 0
	unit := 0 // the unit of the number being read; 0 until one is known
	pendingUnit := false
	ago := false
	// Read right to left, so a unit is seen before its number.
	for i := len(toks) - 1; i >= 0; i-- {
		tok := toks[i]
		fieldMask := 0
		switch tok.kind {
		case 't':
			body := tok.text
			neg := false
			if body[0] == '+' || body[0] == '-' {
				neg = body[0] == '-'
				body = body[1:]
			}
			us, err := parseIntervalTime(body)
			if errors.Is(err, errIvSyntax) {
				return Interval{}, syntax()
			} else if err != nil {
				return Interval{}, overflow()
			}
			if neg {
				us = -us
			}
			a.us = us // PostgreSQL sets, not adds, the time here
			fieldMask = ivTime
			unit = ivDay
			pendingUnit = false
		case 'n':
			if unit == -1 {
				return Interval{}, syntax()
			}
			if unit == 0 {
				unit = ivSecond
			}
			val, frac, months, err := parseIntervalNumber(tok.text)
			if errors.Is(err, errIvSyntax) {
				return Interval{}, syntax()
			} else if err != nil {
				return Interval{}, overflow()
			}
			f := unit
			if months {
				f = ivMonth
			}
			if err := a.add(f, val, frac); err != nil {
				return Interval{}, overflow()
			}
			fieldMask = f
			if f == ivSecond && frac != 0 {
				fieldMask = ivAllSeconds
			}
			if f == ivHour {
				unit = ivDay
			}
			pendingUnit = false
		case 'w':
			if pendingUnit {
				return Interval{}, syntax()
			}
			if tok.text == "ago" {
				ago = true
				unit = -1 // a number right before "ago" has no unit
				continue
			}
			f, ok := intervalUnit(tok.text)
			if !ok {
				return Interval{}, syntax()
			}
			unit = f
			pendingUnit = true
		}
		if fieldMask&mask != 0 {
			return Interval{}, syntax()
		}
		mask |= fieldMask
	}
	if mask == 0 || pendingUnit {
		return Interval{}, syntax()
	}
	if ago {
		if a.us == math.MinInt64 || a.days == math.MinInt32 || a.months == math.MinInt32 || a.years == math.MinInt32 {
			return Interval{}, overflow()
		}
		a.us, a.days, a.months, a.years = -a.us, -a.days, -a.months, -a.years
	}
	return a.interval()
}

// errIvSyntax marks malformed input while parsing an interval; other
// errors from the helpers mean a field overflowed.
var errIvSyntax = errors.New("interval syntax")

// tokenizeInterval splits an interval string into numbers (with an
// optional sign, fraction or "-months" part), times (with a colon) and
// lowercased words. Other punctuation separates fields and is dropped.
func tokenizeInterval(w string) ([]ivToken, bool) {
	var toks []ivToken
	i := 0
	for i < len(w) {
		c := w[i]
		switch {
		case isSpace(c):
			i++
		case c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-':
			var buf []byte
			if c == '+' || c == '-' {
				buf = append(buf, c)
				i++
				for i < len(w) && isSpace(w[i]) {
					i++
				}
				if i == len(w) || !(w[i] >= '0' && w[i] <= '9' || w[i] == '.') {
					return nil, false
				}
			}
			numStart := i
			for i < len(w) && (w[i] >= '0' && w[i] <= '9' || w[i] == '.' || w[i] == ':' || w[i] == '-') {
				i++
			}
			buf = append(buf, w[numStart:i]...)
			kind := byte('n')
			if strings.IndexByte(string(buf), ':') >= 0 {
				kind = 't'
			}
			toks = append(toks, ivToken{kind: kind, text: string(buf)})
		case isLetter(c):
			start := i
			for i < len(w) && isLetter(w[i]) {
				i++
			}
			word := strings.ToLower(w[start:i])
			if len(word) > 10 {
				word = word[:10]
			}
			toks = append(toks, ivToken{kind: 'w', text: word})
		case c == '@':
			i++
		case c < 0x80 && strings.IndexByte("!\"#$%&'()*,/;<=>?[\\]^_`{|}~", c) >= 0:
			i++
		default:
			return nil, false
		}
	}
	return toks, true
}

// parseIntervalNumber reads "[sign]digits[.digits]" or "[sign]y-m"
// (months reports the latter, val then being a count of months).
func parseIntervalNumber(t string) (val int64, frac float64, months bool, err error) {
	neg := false
	body := t
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	intPart := body
	rest := ""
	if i := strings.IndexAny(body, ".-"); i >= 0 {
		intPart, rest = body[:i], body[i:]
	}
	if intPart == "" && (rest == "" || rest[0] != '.') {
		return 0, 0, false, errIvSyntax
	}
	if intPart != "" {
		u, perr := strconv.ParseInt(intPart, 10, 64)
		if perr != nil {
			return 0, 0, false, ivOverflow{}
		}
		val = u
	}
	if neg {
		val = -val
	}
	switch {
	case rest == "":
	case rest[0] == '-':
		ms := rest[1:]
		if ms == "" || strings.ContainsAny(ms, ".-") {
			return 0, 0, false, errIvSyntax
		}
		m, perr := strconv.ParseInt(ms, 10, 64)
		if perr != nil || m >= 12 {
			return 0, 0, false, ivOverflow{}
		}
		if neg {
			m = -m
		}
		total, ok := mulInt64(val, 12)
		if !ok {
			return 0, 0, false, ivOverflow{}
		}
		if total, ok = addInt64(total, m); !ok {
			return 0, 0, false, ivOverflow{}
		}
		return total, 0, true, nil
	default: // '.'
		fs := rest[1:]
		if strings.ContainsAny(fs, ".-") {
			return 0, 0, false, errIvSyntax
		}
		if fs != "" {
			f, _ := strconv.ParseFloat("0."+fs, 64)
			frac = f
		}
		if neg {
			frac = -frac
		}
	}
	return val, frac, false, nil
}

// parseIntervalTime reads h:m, h:m:s[.f] or m:s.f into microseconds.
func parseIntervalTime(t string) (int64, error) {
	parts := strings.Split(t, ":")
	if len(parts) > 3 {
		return 0, errIvSyntax
	}
	last := parts[len(parts)-1]
	fracStr := ""
	if i := strings.IndexByte(last, '.'); i >= 0 {
		last, fracStr = last[:i], last[i+1:]
		parts[len(parts)-1] = last
		if strings.IndexByte(fracStr, '.') >= 0 {
			return 0, errIvSyntax
		}
	}
	nums := make([]int64, len(parts))
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, ".-") {
			return 0, errIvSyntax
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0, ivOverflow{}
		}
		nums[i] = n
	}
	var h, m, sec int64
	switch {
	case len(nums) == 3:
		h, m, sec = nums[0], nums[1], nums[2]
	case fracStr != "" || strings.HasSuffix(t, "."): // m:s.f
		m, sec = nums[0], nums[1]
	default:
		h, m = nums[0], nums[1]
	}
	fus := int64(0)
	if fracStr != "" {
		f, _ := strconv.ParseFloat("0."+fracStr, 64)
		fus = int64(math.RoundToEven(f * 1e6))
	}
	if m > 59 || sec > 60 || fus > usPerSecond {
		return 0, ivOverflow{}
	}
	us, ok := mulInt64(h, usPerHour)
	if !ok {
		return 0, ivOverflow{}
	}
	if us, ok = addInt64(us, m*usPerMinute+sec*usPerSecond+fus); !ok {
		return 0, ivOverflow{}
	}
	return us, nil
}

// parseISOInterval reads the part after 'P' of an ISO 8601 interval in the
// format with designators.
func parseISOInterval(w string) (ivAccum, error) {
	var a ivAccum
	if w == "" {
		return a, errIvSyntax
	}
	timePart := false
	for len(w) > 0 {
		if w[0] == 'T' {
			if timePart {
				return a, errIvSyntax
			}
			timePart = true
			w = w[1:]
			continue
		}
		// A number as strtod reads it, then a designator.
		end := 0
		for end < len(w) && (w[end] >= '0' && w[end] <= '9' || w[end] == '.' || w[end] == '-' || w[end] == '+' ||
			w[end] == 'e' || (end > 0 && w[end-1] == 'e' && (w[end] == '+' || w[end] == '-'))) {
			end++
		}
		if end == 0 || end == len(w) {
			return a, errIvSyntax
		}
		if !(w[0] >= '0' && w[0] <= '9' || w[0] == '-' || w[0] == '.') {
			return a, errIvSyntax
		}
		f, err := strconv.ParseFloat(w[:end], 64)
		if err != nil {
			return a, errIvSyntax
		}
		if math.IsNaN(f) || f < -1e15 || f > 1e15 {
			return a, ivOverflow{}
		}
		val := int64(f) // truncates towards zero
		frac := f - float64(val)
		designator := w[end]
		w = w[end+1:]
		var field int
		switch {
		case !timePart && designator == 'Y':
			field = ivYear
		case !timePart && designator == 'M':
			field = ivMonth
		case !timePart && designator == 'W':
			field = ivWeek
		case !timePart && designator == 'D':
			field = ivDay
		case timePart && designator == 'H':
			field = ivHour
		case timePart && designator == 'M':
			field = ivMinute
		case timePart && designator == 'S':
			field = ivSecond
		default:
			return a, errIvSyntax
		}
		if err := a.add(field, val, frac); err != nil {
			return a, err
		}
	}
	return a, nil
}
