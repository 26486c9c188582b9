package expr

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// The expected values in these tests were produced by PostgreSQL 15.

// bc returns a time in year BC (44 BC is astronomical year -43).
func bc(year, month, day, hour, min, sec int) time.Time {
	return time.Date(1-year, time.Month(month), day, hour, min, sec, 0, time.UTC)
}

func TestDateTrunc(t *testing.T) {
	units := []string{"microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium"}
	inputs := []struct {
		in   time.Time
		want []time.Time
	}{
		{ts("2024-12-30 13:14:15.5"), []time.Time{
			ts("2024-12-30 13:14:15.5"), ts("2024-12-30 13:14:15.5"), ts("2024-12-30 13:14:15"), ts("2024-12-30 13:14:00"),
			ts("2024-12-30 13:00:00"), ts("2024-12-30"), ts("2024-12-30"), ts("2024-12-01"), ts("2024-10-01"),
			ts("2024-01-01"), ts("2020-01-01"), ts("2001-01-01"), ts("2001-01-01"),
		}},
		{ts("1969-12-31 23:59:59.999999"), []time.Time{
			ts("1969-12-31 23:59:59.999999"), ts("1969-12-31 23:59:59.999"), ts("1969-12-31 23:59:59"), ts("1969-12-31 23:59:00"),
			ts("1969-12-31 23:00:00"), ts("1969-12-31"), ts("1969-12-29"), ts("1969-12-01"), ts("1969-10-01"),
			ts("1969-01-01"), ts("1960-01-01"), ts("1901-01-01"), ts("1001-01-01"),
		}},
		{ts("2021-01-03 04:05:06"), []time.Time{
			ts("2021-01-03 04:05:06"), ts("2021-01-03 04:05:06"), ts("2021-01-03 04:05:06"), ts("2021-01-03 04:05:00"),
			ts("2021-01-03 04:00:00"), ts("2021-01-03"), ts("2020-12-28"), ts("2021-01-01"), ts("2021-01-01"),
			ts("2021-01-01"), ts("2020-01-01"), ts("2001-01-01"), ts("2001-01-01"),
		}},
		{bc(44, 3, 15, 10, 11, 12), []time.Time{
			bc(44, 3, 15, 10, 11, 12), bc(44, 3, 15, 10, 11, 12), bc(44, 3, 15, 10, 11, 12), bc(44, 3, 15, 10, 11, 0),
			bc(44, 3, 15, 10, 0, 0), bc(44, 3, 15, 0, 0, 0), bc(44, 3, 11, 0, 0, 0), bc(44, 3, 1, 0, 0, 0), bc(44, 1, 1, 0, 0, 0),
			bc(44, 1, 1, 0, 0, 0), bc(51, 1, 1, 0, 0, 0), bc(100, 1, 1, 0, 0, 0), bc(1000, 1, 1, 0, 0, 0),
		}},
	}
	var cases []callCase
	for _, in := range inputs {
		for k, u := range units {
			cases = append(cases, callCase{
				name: fmt.Sprintf("date_trunc to %s of %s is %s", u, show(in.in), show(in.want[k])),
				fn:   "date_trunc", t: tsT, args: []arg{{u, txt}, {in.in, tsT}}, want: in.want[k],
			})
		}
	}
	cases = append(cases,
		callCase{name: "date_trunc units ignore case and accept plurals", fn: "date_trunc", t: tsT, args: []arg{{"HOURS", txt}, {ts("2024-05-08 10:11:12"), tsT}}, want: ts("2024-05-08 10:00:00")},
		callCase{name: "date_trunc units are compared on ten characters", fn: "date_trunc", t: tsT, args: []arg{{"microsecondsxx", txt}, {ts("2024-05-08 10:11:12.5"), tsT}}, want: ts("2024-05-08 10:11:12.5")},
		callCase{name: "date_trunc of an unknown unit is an error", fn: "date_trunc", t: tsT, args: []arg{{"fortnight", txt}, {ts("2024-05-08"), tsT}},
			code: sqlerr.InvalidParameterValue, msg: `unit "fortnight" not recognized for type timestamp without time zone`},
		callCase{name: "date_trunc to dow is not a unit it knows", fn: "date_trunc", t: tsT, args: []arg{{"dow", txt}, {ts("2024-05-08"), tsT}}, code: sqlerr.InvalidParameterValue},
		callCase{name: "date_trunc to a time zone unit is not supported", fn: "date_trunc", t: tsT, args: []arg{{"timezone", txt}, {ts("2024-05-08"), tsT}}, code: sqlerr.FeatureNotSupported},
		callCase{name: "date_trunc of NULL is NULL", fn: "date_trunc", t: tsT, args: []arg{{"day", txt}, {nil, tsT}}, want: nil},
	)
	runCalls(t, cases)
}

func TestExtract(t *testing.T) {
	fields := []string{"microseconds", "milliseconds", "second", "minute", "hour", "day", "month", "quarter", "week", "year", "decade", "century", "millennium", "dow", "isodow", "doy", "isoyear", "epoch", "julian"}
	inputs := []struct {
		in   time.Time
		want []float64
	}{
		{ts("2024-12-30 13:14:15.5"), []float64{15500000, 15500, 15.5, 14, 13, 30, 12, 4, 1, 2024, 202, 21, 3, 1, 1, 365, 2025, 1735564455.5, 2460675.551568287}},
		{ts("1969-12-31 23:59:59.999999"), []float64{59999999, 59999.999, 59.999999, 59, 23, 31, 12, 4, 1, 1969, 196, 20, 2, 3, 3, 365, 1970, -0.000001, 2440587.9999999998843}},
		{ts("2021-01-03 04:05:06"), []float64{6000000, 6000, 6, 5, 4, 3, 1, 1, 53, 2021, 202, 21, 3, 0, 7, 3, 2020, 1609646706, 2459218.1702083333}},
		{bc(44, 3, 15, 10, 11, 12), []float64{12000000, 12000, 12, 11, 10, 15, 3, 1, 11, -44, -5, -1, -1, 5, 5, 74, -44, -63517787328, 1705428.4244444444}},
	}
	var cases []callCase
	for _, in := range inputs {
		for k, f := range fields {
			cases = append(cases, callCase{
				name: fmt.Sprintf("extract %s from %s is %v", f, show(in.in), in.want[k]),
				fn:   "extract", t: f64, args: []arg{{f, txt}, {in.in, tsT}}, want: in.want[k],
			})
		}
	}
	cases = append(cases,
		callCase{name: "extract of an unknown field is an error", fn: "extract", t: f64, args: []arg{{"foo", txt}, {ts("2024-05-08"), tsT}}, code: sqlerr.InvalidParameterValue},
		callCase{name: "extract of a time zone field is not supported", fn: "extract", t: f64, args: []arg{{"timezone_h", txt}, {ts("2024-05-08"), tsT}}, code: sqlerr.FeatureNotSupported},
		callCase{name: "extract field names ignore case", fn: "extract", t: f64, args: []arg{{"YEAR", txt}, {ts("2024-05-08"), tsT}}, want: 2024.0},
		callCase{name: "extract from NULL is NULL", fn: "extract", t: f64, args: []arg{{"year", txt}, {nil, tsT}}, want: nil},
	)
	runCalls(t, cases)
}
