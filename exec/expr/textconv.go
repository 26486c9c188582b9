package expr

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// formatText and parseText are the PostgreSQL text forms of values, used
// by casts to and from text. They stand in for sqltypes.FormatText and
// sqltypes.ParseText (same signatures and errors), which are being written
// in parallel; once those land, these bodies become one-line calls.

// formatText returns the text form of v, a normalized non-NULL Go value of
// type t.
func formatText(t sqltypes.Type, v any) string {
	switch t.Kind {
	case sqltypes.KindBool:
		if v.(bool) {
			return "true"
		}
		return "false"
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		return strconv.FormatInt(v.(int64), 10)
	case sqltypes.KindFloat32:
		return formatFloat(v.(float64), 32)
	case sqltypes.KindFloat64:
		return formatFloat(v.(float64), 64)
	case sqltypes.KindTimestamp:
		return formatTimestamp(v.(time.Time).UnixMicro())
	case sqltypes.KindDate:
		d, _ := dateDays(v.(time.Time))
		return formatDate(int64(d))
	case sqltypes.KindInterval:
		return formatInterval(v.(sqltypes.Interval))
	}
	s, _ := v.(string)
	return s
}

// formatFloat prints x as PostgreSQL does with extra_float_digits = 1:
// the shortest decimal that reads back as x, in exponent form when the
// decimal exponent is below -4 or at least 15 (6 for REAL).
func formatFloat(x float64, bitSize int) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(x, 'e', -1, bitSize)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	limit := 15
	if bitSize == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return e
	}
	return strconv.FormatFloat(x, 'f', -1, bitSize)
}

// formatTimestamp prints microseconds since 1970 as PostgreSQL prints a
// timestamp without time zone (ISO, trailing fractional zeros dropped).
func formatTimestamp(us int64) string {
	days := floorDiv(us, microsPerDay)
	tod := us - days*microsPerDay
	y, m, d := civilFromDays(days)
	var b strings.Builder
	writeYMD(&b, y, m, d, false)
	b.WriteByte(' ')
	hh := tod / (3600 * microsPerSecond)
	mm := tod / (60 * microsPerSecond) % 60
	ss := tod / microsPerSecond % 60
	writePadded(&b, hh, 2)
	b.WriteByte(':')
	writePadded(&b, mm, 2)
	b.WriteByte(':')
	writePadded(&b, ss, 2)
	writeFraction(&b, tod%microsPerSecond)
	if y <= 0 {
		b.WriteString(" BC")
	}
	return b.String()
}

func formatDate(days int64) string {
	var b strings.Builder
	y, m, d := civilFromDays(days)
	writeYMD(&b, y, m, d, true)
	return b.String()
}

func writeYMD(b *strings.Builder, y, m, d int64, bc bool) {
	year := y
	if y <= 0 {
		year = 1 - y
	}
	writePadded(b, year, 4)
	b.WriteByte('-')
	writePadded(b, m, 2)
	b.WriteByte('-')
	writePadded(b, d, 2)
	if bc && y <= 0 {
		b.WriteString(" BC")
	}
}

func writePadded(b *strings.Builder, v int64, width int) {
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// writeFraction writes ".ffffff" without trailing zeros, nothing for 0.
func writeFraction(b *strings.Builder, us int64) {
	if us == 0 {
		return
	}
	s := strconv.FormatInt(us+microsPerSecond, 10)[1:]
	b.WriteByte('.')
	b.WriteString(strings.TrimRight(s, "0"))
}

// formatInterval prints an interval in PostgreSQL's "postgres" style:
// "1 year 2 mons -3 days +04:05:06.5".
func formatInterval(iv sqltypes.Interval) string {
	var b strings.Builder
	zero, before := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !zero {
			b.WriteByte(' ')
		}
		if before && v > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(v, 10))
		b.WriteByte(' ')
		b.WriteString(unit)
		if v != 1 {
			b.WriteByte('s')
		}
		before = v < 0
		zero = false
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	t := iv.Micros
	hh := t / (3600 * microsPerSecond)
	t -= hh * 3600 * microsPerSecond
	mm := t / (60 * microsPerSecond)
	t -= mm * 60 * microsPerSecond
	ss := t / microsPerSecond
	fs := t - ss*microsPerSecond
	if zero || iv.Micros != 0 {
		if !zero {
			b.WriteByte(' ')
		}
		switch {
		case iv.Micros < 0:
			b.WriteByte('-')
		case before:
			b.WriteByte('+')
		}
		writePadded(&b, absInt64(hh), 2)
		b.WriteByte(':')
		writePadded(&b, absInt64(mm), 2)
		b.WriteByte(':')
		writePadded(&b, absInt64(ss), 2)
		writeFraction(&b, absInt64(fs))
	}
	return b.String()
}

func absInt64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// parseText parses the text form of a value of type t.
func parseText(t sqltypes.Type, s string) (any, error) {
	switch t.Kind {
	case sqltypes.KindBool:
		return parseBool(s)
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		return parseInt(t, s)
	case sqltypes.KindFloat32, sqltypes.KindFloat64:
		return parseFloat(t, s)
	case sqltypes.KindTimestamp:
		us, err := parseTimestamp(s, "timestamp")
		if err != nil {
			return nil, err
		}
		return time.UnixMicro(us).UTC(), nil
	case sqltypes.KindDate:
		us, err := parseTimestamp(s, "date")
		if err != nil {
			return nil, err
		}
		return dateFromDays(int32(floorDiv(us, microsPerDay))), nil
	case sqltypes.KindInterval:
		return parseInterval(s)
	}
	return s, nil
}

func errSyntax(t, s string) error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: %q", t, s)
}

func parseBool(s string) (any, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	prefixOf := func(word string, min int) bool {
		return len(v) >= min && strings.HasPrefix(word, v)
	}
	switch {
	case prefixOf("true", 1), prefixOf("yes", 1), prefixOf("on", 2), v == "1":
		return true, nil
	case prefixOf("false", 1), prefixOf("no", 1), prefixOf("off", 2), v == "0":
		return false, nil
	}
	return nil, errSyntax("boolean", s)
}

func parseInt(t sqltypes.Type, s string) (any, error) {
	v := strings.TrimSpace(s)
	digits := strings.TrimLeft(v, "+-")
	if len(v)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil, errSyntax(t.String(), s)
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err == nil {
		err = checkIntRange(t, x)
	}
	if err != nil {
		return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, t)
	}
	return x, nil
}

func parseFloat(t sqltypes.Type, s string) (any, error) {
	v := strings.TrimSpace(s)
	switch strings.ToLower(v) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	if v == "" || strings.Trim(v, "0123456789.eE+-") != "" {
		return nil, errSyntax(t.String(), s)
	}
	bitSize := 64
	if t.Kind == sqltypes.KindFloat32 {
		bitSize = 32
	}
	x, err := strconv.ParseFloat(v, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, t)
		}
		return nil, errSyntax(t.String(), s)
	}
	if x == 0 && strings.Trim(strings.SplitN(strings.ToLower(v), "e", 2)[0], "+-0.") != "" {
		return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, t)
	}
	return x, nil
}

// parseTimestamp reads "YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ BC]" as
// microseconds since 1970.
func parseTimestamp(s, typ string) (int64, error) {
	v := strings.TrimSpace(s)
	bad := func() (int64, error) {
		return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type %s: %q", typ, s)
	}
	bc := false
	if u := strings.ToUpper(v); strings.HasSuffix(u, " BC") {
		bc = true
		v = strings.TrimSpace(v[:len(v)-3])
	}
	datePart, timePart := v, ""
	if i := strings.IndexAny(v, " T"); i >= 0 {
		datePart, timePart = v[:i], strings.TrimSpace(v[i+1:])
		if typ == "date" && timePart != "" {
			if _, err := parseClock(timePart); err != nil {
				return bad()
			}
			timePart = ""
		}
	}
	ymd := strings.Split(datePart, "-")
	if len(ymd) != 3 {
		return bad()
	}
	var f [3]int64
	for i, p := range ymd {
		if p == "" || strings.Trim(p, "0123456789") != "" || len(p) > 9 {
			return bad()
		}
		f[i], _ = strconv.ParseInt(p, 10, 64)
	}
	y, m, d := f[0], f[1], f[2]
	if bc {
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > int64(daysIn(y, m)) || (bc && f[0] == 0) {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: %q", s)
	}
	us := daysFromCivil(y, m, d) * microsPerDay
	if timePart != "" {
		tod, err := parseClock(timePart)
		if err != nil {
			return bad()
		}
		us += tod
	}
	if us < minTimestamp {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "%s out of range: %q", typ, s)
	}
	return us, nil
}

// parseClock reads "HH:MM[:SS[.ffffff]]" as microseconds.
func parseClock(s string) (int64, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, errSyntax("time", s)
	}
	hh, err1 := strconv.ParseInt(parts[0], 10, 64)
	mm, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 {
		return 0, errSyntax("time", s)
	}
	us := (hh*3600 + mm*60) * microsPerSecond
	if len(parts) == 3 {
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || sec < 0 || sec >= 61 || strings.Trim(parts[2], "0123456789.") != "" {
			return 0, errSyntax("time", s)
		}
		us += int64(math.Round(sec * microsPerSecond))
	}
	if us > microsPerDay {
		return 0, errSyntax("time", s)
	}
	return us, nil
}

// parseInterval reads PostgreSQL's interval input: "<n> <unit>" pairs,
// an optional [-]HH:MM[:SS[.f]] and an optional trailing "ago".
func parseInterval(s string) (any, error) {
	bad := sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type interval: %q", s)
	fields := strings.Fields(strings.ToLower(s))
	var months, days int64
	var micros float64
	ago := false
	seen := false
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if f == "@" {
			continue
		}
		if f == "ago" && i == len(fields)-1 {
			ago = true
			continue
		}
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			tod, err := parseClock(strings.TrimLeft(f, "+-"))
			if err != nil {
				return nil, bad
			}
			if neg {
				tod = -tod
			}
			micros += float64(tod)
			seen = true
			continue
		}
		num, unit := f, ""
		if j := strings.IndexFunc(f, func(r rune) bool { return r >= 'a' && r <= 'z' }); j > 0 {
			num, unit = f[:j], f[j:]
		} else if i+1 < len(fields) {
			if _, err := strconv.ParseFloat(fields[i+1], 64); err != nil && !strings.Contains(fields[i+1], ":") {
				unit = fields[i+1]
				i++
			}
		}
		x, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, bad
		}
		seen = true
		switch unit {
		case "millennium", "millennia", "millenniums", "mil", "mils":
			months += int64(x * 12000)
		case "century", "centuries", "cent", "c":
			months += int64(x * 1200)
		case "decade", "decades", "dec", "decs":
			months += int64(x * 120)
		case "year", "years", "y", "yr", "yrs":
			months += int64(x * 12)
		case "month", "months", "mon", "mons":
			whole := math.Trunc(x)
			months += int64(whole)
			days += int64(math.Trunc((x - whole) * 30))
			micros += math.Round(((x-whole)*30 - math.Trunc((x-whole)*30)) * microsPerDay)
		case "week", "weeks", "w":
			whole := math.Trunc(x * 7)
			days += int64(whole)
			micros += math.Round((x*7 - whole) * microsPerDay)
		case "day", "days", "d":
			whole := math.Trunc(x)
			days += int64(whole)
			micros += math.Round((x - whole) * microsPerDay)
		case "hour", "hours", "h", "hr", "hrs":
			micros += x * 3600 * microsPerSecond
		case "minute", "minutes", "min", "mins", "m":
			micros += x * 60 * microsPerSecond
		case "second", "seconds", "sec", "secs", "s", "":
			micros += x * microsPerSecond
		case "millisecond", "milliseconds", "ms", "msec", "msecs":
			micros += x * 1000
		case "microsecond", "microseconds", "us", "usec", "usecs":
			micros += x
		default:
			return nil, bad
		}
	}
	if !seen {
		return nil, bad
	}
	if months > math.MaxInt32 || months < math.MinInt32 || days > math.MaxInt32 || days < math.MinInt32 || math.Abs(micros) > math.MaxInt64/1000 {
		return nil, errIntervalRange()
	}
	iv := sqltypes.Interval{Months: int32(months), Days: int32(days), Micros: int64(math.Round(micros))}
	if ago {
		iv = sqltypes.Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}
	}
	return iv, nil
}
