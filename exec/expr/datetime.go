package expr

import (
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Timestamps are microseconds since 1970-01-01 00:00:00 (no time zone),
// dates days since 1970-01-01, in the proleptic Gregorian calendar with
// astronomical years (year 0 is 1 BC), as PostgreSQL computes them.

// civilFromDays returns the date of a day number (days since 1970-01-01).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civilFromDays.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int64) int {
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

// splitTimestamp returns the day number and the microseconds into the day.
func splitTimestamp(us int64) (days, tod int64) {
	days = floorDiv(us, microsPerDay)
	return days, us - days*microsPerDay
}

// addMonths adds months to a timestamp, clamping the day to the end of
// the resulting month (Jan 31 + 1 month = Feb 28 or 29).
func addMonths(us int64, months int64) (int64, error) {
	days, tod := splitTimestamp(us)
	y, m, d := civilFromDays(days)
	total := y*12 + (m - 1) + months
	y = floorDiv(total, 12)
	m = total - y*12 + 1
	d = min(d, int64(daysIn(y, m)))
	days = daysFromCivil(y, m, d)
	if days > maxTimestamp/microsPerDay || days < minTimestamp/microsPerDay-1 {
		return 0, errTimestampRange()
	}
	return days*microsPerDay + tod, nil
}

// addInterval is timestamp + interval: months first, then days, then
// the time, as PostgreSQL's timestamp_pl_interval.
func addInterval(us int64, iv arrow.MonthDayNanoInterval, sign int64) (int64, error) {
	var err error
	if iv.Months != 0 {
		if us, err = addMonths(us, sign*int64(iv.Months)); err != nil {
			return 0, err
		}
	}
	add := func(a, b int64) (int64, error) {
		r := a + b
		if (a^r)&(b^r) < 0 {
			return 0, errTimestampRange()
		}
		return r, nil
	}
	if iv.Days != 0 {
		days := sign * int64(iv.Days)
		if days > math.MaxInt64/microsPerDay || days < math.MinInt64/microsPerDay {
			return 0, errTimestampRange()
		}
		if us, err = add(us, days*microsPerDay); err != nil {
			return 0, err
		}
	}
	if iv.Nanoseconds != 0 {
		if us, err = add(us, sign*(iv.Nanoseconds/1000)); err != nil {
			return 0, err
		}
	}
	if us < minTimestamp {
		return 0, errTimestampRange()
	}
	return us, nil
}

// tsIntervalKernel is timestamp + interval (timestamp - interval with
// sign -1).
func tsIntervalKernel(sign int64) kernel {
	return func(c *call) (arrow.Array, error) {
		ts := fixedColOf[int64](c.args[0], sqltypes.Timestamp)
		iv := fixedColOf[arrow.MonthDayNanoInterval](c.args[1], sqltypes.IntervalT)
		vbuf, nulls := argValidity(c)
		ok := bitsOfBuf(vbuf)
		buf, out := allocFixed[int64](c.st.mem, c.n)
		var err error
		for i := range out {
			if !ok.get(i) {
				out[i] = 0
				continue
			}
			if out[i], err = addInterval(ts.at(i), iv.at(i), sign); err != nil {
				break
			}
		}
		return fixedResult(sqltypes.Timestamp, c.n, vbuf, nulls, buf, err)
	}
}

// tsDiffKernel is timestamp - timestamp: an interval of days and time, as
// PostgreSQL's timestamp_mi (which justifies hours into days).
func tsDiffKernel(c *call) (arrow.Array, error) {
	a, b := fixedColOf[int64](c.args[0], sqltypes.Timestamp), fixedColOf[int64](c.args[1], sqltypes.Timestamp)
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocFixed[arrow.MonthDayNanoInterval](c.st.mem, c.n)
	var err error
	for i := range out {
		out[i] = arrow.MonthDayNanoInterval{}
		if !ok.get(i) {
			continue
		}
		x, y := a.at(i), b.at(i)
		t := x - y
		if (x^y)&(x^t) < 0 {
			err = errIntervalRange()
			break
		}
		days := t / microsPerDay
		t -= days * microsPerDay
		switch {
		case days > 0 && t < 0:
			t += microsPerDay
			days--
		case days < 0 && t > 0:
			t -= microsPerDay
			days++
		}
		out[i] = arrow.MonthDayNanoInterval{Days: int32(days), Nanoseconds: t * 1000}
	}
	return fixedResult(sqltypes.IntervalT, c.n, vbuf, nulls, buf, err)
}

// dateUnit is a field of a timestamp, as date_trunc and extract name it.
type dateUnit uint8

const (
	unitNone dateUnit = iota
	unitMicrosecond
	unitMillisecond
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitQuarter
	unitYear
	unitDecade
	unitCentury
	unitMillennium
	unitTimezone // recognized, never supported for timestamps
	// extract only
	unitDow
	unitIsodow
	unitDoy
	unitIsoyear
	unitEpoch
	unitJulian
)

// lookupUnit finds a unit by PostgreSQL's spellings: lowercased, compared
// on at most its first 10 characters. special adds the names only
// extract knows (dow, epoch, ...).
func lookupUnit(name string, special bool) dateUnit {
	key := strings.ToLower(name)
	if len(key) > 10 {
		key = key[:10]
	}
	switch key {
	case "microsecon", "microsecond", "us", "usec", "usecs", "useconds":
		return unitMicrosecond
	case "millisecon", "millisecond", "ms", "msec", "msecs", "mseconds":
		return unitMillisecond
	case "second", "s", "sec", "secs", "seconds":
		return unitSecond
	case "minute", "m", "min", "mins", "minutes":
		return unitMinute
	case "hour", "h", "hr", "hrs", "hours":
		return unitHour
	case "day", "d", "days":
		return unitDay
	case "week", "w", "weeks":
		return unitWeek
	case "month", "mon", "mons", "months":
		return unitMonth
	case "quarter", "qtr":
		return unitQuarter
	case "year", "y", "yr", "yrs", "years":
		return unitYear
	case "decade", "dec", "decades", "decs":
		return unitDecade
	case "century", "c", "cent", "centuries":
		return unitCentury
	case "millennium", "mil", "millennia", "mils":
		return unitMillennium
	case "timezone", "timezone_h", "timezone_m":
		return unitTimezone
	}
	if special {
		switch key {
		case "dow":
			return unitDow
		case "isodow":
			return unitIsodow
		case "doy":
			return unitDoy
		case "isoyear":
			return unitIsoyear
		case "epoch":
			return unitEpoch
		case "j", "jd", "julian":
			return unitJulian
		}
	}
	return unitNone
}

func resolveUnit(name string, special bool) (dateUnit, error) {
	u := lookupUnit(name, special)
	switch u {
	case unitNone:
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type timestamp without time zone", name)
	case unitTimezone:
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type timestamp without time zone", name)
	}
	return u, nil
}

// unitsOf resolves the unit operand of a call: once when it is constant,
// else per row, and only for rows that need it (a bad unit is no error
// for NULL timestamps).
func unitsOf(c *call, special bool) func(i int) (dateUnit, error) {
	names := textsOf(c.args[0])
	constant := c.args[0].arr == nil
	var u dateUnit
	var err error
	resolved := false
	return func(i int) (dateUnit, error) {
		if constant && resolved {
			return u, err
		}
		u, err = resolveUnit(names.at(i), special)
		resolved = true
		return u, err
	}
}

// dateTruncKernel is date_trunc(unit, timestamp).
func dateTruncKernel(c *call) (arrow.Array, error) {
	unit := unitsOf(c, false)
	ts := fixedColOf[int64](c.args[1], sqltypes.Timestamp)
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocFixed[int64](c.st.mem, c.n)
	var err error
	for i := range out {
		out[i] = 0
		if !ok.get(i) {
			continue
		}
		var u dateUnit
		if u, err = unit(i); err != nil {
			break
		}
		if out[i], err = truncTimestamp(ts.at(i), u); err != nil {
			break
		}
	}
	return fixedResult(sqltypes.Timestamp, c.n, vbuf, nulls, buf, err)
}

// truncTimestamp is PostgreSQL's timestamp_trunc.
func truncTimestamp(us int64, u dateUnit) (int64, error) {
	days, tod := splitTimestamp(us)
	switch u {
	case unitMicrosecond:
		return us, nil
	case unitMillisecond:
		return days*microsPerDay + tod/1000*1000, nil
	case unitSecond:
		return days*microsPerDay + tod/microsPerSecond*microsPerSecond, nil
	case unitMinute:
		return days*microsPerDay + tod/(60*microsPerSecond)*(60*microsPerSecond), nil
	case unitHour:
		return days*microsPerDay + tod/(3600*microsPerSecond)*(3600*microsPerSecond), nil
	case unitDay:
		return days * microsPerDay, nil
	case unitWeek:
		// back to Monday; 1970-01-01 was a Thursday
		dow := floorMod(days+3, 7) // 0 = Monday
		return (days - dow) * microsPerDay, nil
	}
	y, m, _ := civilFromDays(days)
	switch u {
	case unitMillennium:
		if y > 0 {
			y = ((y+999)/1000)*1000 - 999
		} else {
			y = -((999-(y-1))/1000)*1000 + 1
		}
		m = 1
	case unitCentury:
		if y > 0 {
			y = ((y+99)/100)*100 - 99
		} else {
			y = -((99-(y-1))/100)*100 + 1
		}
		m = 1
	case unitDecade:
		if y > 0 {
			y = (y / 10) * 10
		} else {
			y = -((8 - (y - 1)) / 10) * 10
		}
		m = 1
	case unitYear:
		m = 1
	case unitQuarter:
		m = 3*((m-1)/3) + 1
	case unitMonth:
	default:
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "unit not supported for type timestamp without time zone")
	}
	r := daysFromCivil(y, m, 1) * microsPerDay
	if r < minTimestamp {
		return 0, errTimestampRange()
	}
	return r, nil
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// extractKernel is extract(field, timestamp) as float64.
func extractKernel(c *call) (arrow.Array, error) {
	unit := unitsOf(c, true)
	ts := fixedColOf[int64](c.args[1], sqltypes.Timestamp)
	return mapFloat64(c, func(i int) (float64, error) {
		u, err := unit(i)
		if err != nil {
			return 0, err
		}
		return extractField(ts.at(i), u), nil
	})
}

// extractField is PostgreSQL's timestamp_part_common for one field.
func extractField(us int64, u dateUnit) float64 {
	days, tod := splitTimestamp(us)
	sec := tod / microsPerSecond % 60
	frac := tod % microsPerSecond
	y, m, d := civilFromDays(days)
	switch u {
	case unitMicrosecond:
		return float64(sec*microsPerSecond + frac)
	case unitMillisecond:
		return float64(sec*1000) + float64(frac)/1000
	case unitSecond:
		return float64(sec) + float64(frac)/microsPerSecond
	case unitMinute:
		return float64(tod / (60 * microsPerSecond) % 60)
	case unitHour:
		return float64(tod / (3600 * microsPerSecond))
	case unitDay:
		return float64(d)
	case unitMonth:
		return float64(m)
	case unitQuarter:
		return float64((m-1)/3 + 1)
	case unitWeek:
		_, w := isoWeek(y, m, d)
		return float64(w)
	case unitYear:
		if y > 0 {
			return float64(y)
		}
		return float64(y - 1)
	case unitDecade:
		if y >= 0 {
			return float64(y / 10)
		}
		return float64(-((8 - (y - 1)) / 10))
	case unitCentury:
		if y > 0 {
			return float64((y + 99) / 100)
		}
		return float64(-((99 - (y - 1)) / 100))
	case unitMillennium:
		if y > 0 {
			return float64((y + 999) / 1000)
		}
		return float64(-((999 - (y - 1)) / 1000))
	case unitDow:
		return float64(floorMod(days+4, 7)) // 0 = Sunday
	case unitIsodow:
		return float64(floorMod(days+3, 7) + 1) // 1 = Monday
	case unitDoy:
		return float64(days - daysFromCivil(y, 1, 1) + 1)
	case unitIsoyear:
		iy, _ := isoWeek(y, m, d)
		if iy <= 0 {
			iy--
		}
		return float64(iy)
	case unitEpoch:
		return float64(us) / microsPerSecond
	case unitJulian:
		return float64(days+2440588) + float64(tod)/microsPerDay
	}
	return math.NaN()
}

// isoWeek returns the ISO 8601 year and week of a date.
func isoWeek(y, m, d int64) (int64, int64) {
	iy, w := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC).ISOWeek()
	return int64(iy), int64(w)
}
