package source

import (
	"reflect"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func TestParseLogOptions(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		want LogOptions
	}{
		{"no options are the defaults", nil, LogOptions{}},
		{"common options are skipped", map[string]string{"connector": "log", "start_offset": "earliest", "event_time": "ts", "watermark_delay": "5s"}, LogOptions{}},
		{"segment_bytes", map[string]string{"segment_bytes": " 4096 "}, LogOptions{SegmentBytes: 4096}},
		{"keys ignore case", map[string]string{"SEGMENT_BYTES": "10", "Retention": "5 rows"}, LogOptions{SegmentBytes: 10, RetentionRows: 5}},
		{"retention in rows", map[string]string{"retention": "1000 rows"}, LogOptions{RetentionRows: 1000}},
		{"retention of one row", map[string]string{"retention": "1 ROW"}, LogOptions{RetentionRows: 1}},
		{"retention as a Go duration", map[string]string{"retention": "1h30m"}, LogOptions{RetentionAge: 90 * time.Minute}},
		{"retention in days", map[string]string{"retention": "7 days"}, LogOptions{RetentionAge: 7 * 24 * time.Hour}},
		{"retention in minutes", map[string]string{"retention": "90 minutes"}, LogOptions{RetentionAge: 90 * time.Minute}},
		{"retention as a PostgreSQL interval", map[string]string{"retention": "1 day 02:00:00"}, LogOptions{RetentionAge: 26 * time.Hour}},
		{"retention of the longest duration", map[string]string{"retention": "106751 days"}, LogOptions{RetentionAge: 106751 * 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogOptions(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseLogOptionsErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		code string
		key  string
	}{
		{"an unknown key", map[string]string{"segment_size": "1"}, sqlerr.SyntaxError, "segment_size"},
		{"a datagen key", map[string]string{"rows_per_second": "1"}, sqlerr.SyntaxError, "rows_per_second"},
		{"segment_bytes of zero", map[string]string{"segment_bytes": "0"}, sqlerr.InvalidParameterValue, "segment_bytes"},
		{"negative segment_bytes", map[string]string{"segment_bytes": "-4096"}, sqlerr.InvalidParameterValue, "segment_bytes"},
		{"segment_bytes with a unit", map[string]string{"segment_bytes": "8MB"}, sqlerr.InvalidParameterValue, "segment_bytes"},
		{"retention of zero rows", map[string]string{"retention": "0 rows"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention of a negative duration", map[string]string{"retention": "-1h"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention of zero", map[string]string{"retention": "0s"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention in months", map[string]string{"retention": "1 month"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention in words", map[string]string{"retention": "forever"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention of many rows and a typo", map[string]string{"retention": "10 rowz"}, sqlerr.InvalidParameterValue, "retention"},
		{"retention longer than a duration holds", map[string]string{"retention": "106752 days"}, sqlerr.InvalidParameterValue, "retention"},
		// 213503983 days in microseconds wraps an int64 to about 16 hours.
		{"retention that wraps when multiplied", map[string]string{"retention": "213503983 days"}, sqlerr.InvalidParameterValue, "retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogOptions(tt.opts)
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			assertCode(t, err, tt.code, tt.key)
		})
	}
}

func TestParseDatagenOptions(t *testing.T) {
	cols := []Column{
		{"k", sqltypes.Int32},
		{"name", sqltypes.Varchar(8)},
		{"ts", sqltypes.Timestamp},
		{"x", sqltypes.Float64},
		{"s", sqltypes.Text},
		{"d", sqltypes.Date},
		{"iv", sqltypes.IntervalT},
		{"Mixed.Case", sqltypes.Int64},
	}
	ts := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		opts map[string]string
		want DatagenOptions
	}{
		{"no options are the defaults", nil, DatagenOptions{Fields: make([]FieldOptions, len(cols))}},
		{"the source options", map[string]string{"seed": "42", "rows_per_second": "100", "max_rows": "5000", "connector": "datagen", "start_offset": "latest"},
			DatagenOptions{Seed: 42, RowsPerSecond: 100, MaxRows: 5000, Fields: make([]FieldOptions, len(cols))}},
		{"a negative seed", map[string]string{"seed": "-1"}, DatagenOptions{Seed: 1<<64 - 1, Fields: make([]FieldOptions, len(cols))}},
		{"a seed above the int64 range", map[string]string{"seed": "18446744073709551615"}, DatagenOptions{Seed: 1<<64 - 1, Fields: make([]FieldOptions, len(cols))}},
		{"every field option", map[string]string{
			"fields.k.kind":           "sequence",
			"fields.k.start":          "5",
			"fields.k.step":           "-2",
			"fields.name.choices":     "a, bb ,ccc",
			"fields.ts.start":         "2024-05-01 12:30:00",
			"fields.ts.step":          "1 second",
			"fields.x.kind":           "range",
			"fields.x.min":            "1.5",
			"fields.x.max":            "2.5",
			"fields.s.length":         "4",
			"fields.d.step":           "7 days",
			"fields.iv.min":           "1 minute",
			"fields.iv.max":           "01:00:00",
			"FIELDS.mixed.case.START": "9",
		}, DatagenOptions{Fields: []FieldOptions{
			{Kind: GenSequence, Start: int64(5), Step: int64(-2)},
			{Choices: []any{"a", "bb", "ccc"}},
			{Start: ts, Step: sqltypes.Interval{Micros: 1_000_000}},
			{Kind: GenRandom, Min: 1.5, Max: 2.5},
			{Length: 4},
			{Step: sqltypes.Interval{Days: 7}},
			{Min: sqltypes.Interval{Micros: 60_000_000}, Max: sqltypes.Interval{Micros: 3_600_000_000}},
			{Start: int64(9)},
		}}},
		{"a text sequence takes integers", map[string]string{"fields.s.start": "10", "fields.s.step": "5"},
			DatagenOptions{Fields: []FieldOptions{{}, {}, {}, {}, {Start: int64(10), Step: int64(5)}, {}, {}, {}}}},
		{"a kind alone", map[string]string{"fields.ts.kind": "random"},
			DatagenOptions{Fields: []FieldOptions{{}, {}, {Kind: GenRandom}, {}, {}, {}, {}, {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDatagenOptions(cols, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			// What it parses, NewDatagen accepts.
			if _, err := NewDatagen(cols, got, nil); err != nil {
				t.Fatalf("NewDatagen: %v", err)
			}
		})
	}
}

func TestParseDatagenOptionsErrorsNameTheKey(t *testing.T) {
	cols := []Column{{"k", sqltypes.Int16}, {"name", sqltypes.Varchar(3)}, {"b", sqltypes.Bool}, {"ts", sqltypes.Timestamp}}
	tests := []struct {
		name string
		opts map[string]string
		code string
		key  string
	}{
		{"an unknown key", map[string]string{"rate": "5"}, sqlerr.SyntaxError, "rate"},
		{"a log key", map[string]string{"retention": "5 rows"}, sqlerr.SyntaxError, "retention"},
		{"an unknown column", map[string]string{"fields.nope.min": "1"}, sqlerr.SyntaxError, "fields.nope.min"},
		{"an unknown field property", map[string]string{"fields.k.median": "1"}, sqlerr.SyntaxError, "fields.k.median"},
		{"a field key without a property", map[string]string{"fields.k": "1"}, sqlerr.SyntaxError, "fields.k"},
		{"a seed that is not a number", map[string]string{"seed": "abc"}, sqlerr.InvalidParameterValue, "seed"},
		{"a negative rate", map[string]string{"rows_per_second": "-1"}, sqlerr.InvalidParameterValue, "rows_per_second"},
		{"a rate that is not a number", map[string]string{"rows_per_second": "fast"}, sqlerr.InvalidParameterValue, "rows_per_second"},
		{"max_rows of zero", map[string]string{"max_rows": "0"}, sqlerr.InvalidParameterValue, "max_rows"},
		{"an unknown kind", map[string]string{"fields.k.kind": "zigzag"}, sqlerr.InvalidParameterValue, "fields.k.kind"},
		{"a start that is not a number", map[string]string{"fields.k.start": "one"}, sqlerr.InvalidParameterValue, "fields.k.start"},
		{"a smallint max out of range", map[string]string{"fields.k.max": "40000"}, sqlerr.InvalidParameterValue, "fields.k.max"},
		{"min above max", map[string]string{"fields.k.min": "9", "fields.k.max": "1"}, sqlerr.InvalidParameterValue, "fields.k.min"},
		{"keys of two kinds", map[string]string{"fields.k.min": "1", "fields.k.start": "1"}, sqlerr.InvalidParameterValue, "fields.k."},
		{"a kind that contradicts a key", map[string]string{"fields.k.kind": "choices", "fields.k.min": "1"}, sqlerr.InvalidParameterValue, "fields.k.min"},
		{"a length of zero", map[string]string{"fields.name.length": "0"}, sqlerr.InvalidParameterValue, "fields.name.length"},
		{"a length past the varchar", map[string]string{"fields.name.length": "4"}, sqlerr.InvalidParameterValue, "fields.name.length"},
		{"a text min", map[string]string{"fields.name.min": "a"}, sqlerr.InvalidParameterValue, "fields.name.min"},
		{"a choice of the wrong type", map[string]string{"fields.k.choices": "1,x"}, sqlerr.InvalidParameterValue, "fields.k.choices"},
		{"a choice too long for the varchar", map[string]string{"fields.name.choices": "ab,abcd"}, sqlerr.InvalidParameterValue, "fields.name.choices"},
		{"a boolean sequence", map[string]string{"fields.b.start": "true"}, sqlerr.InvalidParameterValue, "fields.b.start"},
		{"a timestamp step that is not an interval", map[string]string{"fields.ts.step": "noon"}, sqlerr.InvalidParameterValue, "fields.ts.step"},
		{"a timestamp min that is not a timestamp", map[string]string{"fields.ts.min": "yesterday-ish"}, sqlerr.InvalidParameterValue, "fields.ts.min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDatagenOptions(cols, tt.opts)
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			assertCode(t, err, tt.code, tt.key)
		})
	}
}

func TestOffsets(t *testing.T) {
	o := Offsets{3: 7, 0: 17, 1: 4}
	if got, want := o.String(), "{0:17 1:4 3:7}"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got, want := (Offsets{}).String(), "{}"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	c := o.Clone()
	c[0] = 99
	if o[0] != 17 {
		t.Fatal("changing a clone changed the original")
	}
	if !reflect.DeepEqual(Offsets{3: 7, 0: 99, 1: 4}, c) {
		t.Fatalf("clone = %v", c)
	}
}

func TestIsCommonOption(t *testing.T) {
	for key, want := range map[string]bool{
		"connector": true, "START_OFFSET": true, "event_time": true, "watermark_delay": true,
		"seed": false, "retention": false, "": false,
	} {
		if got := IsCommonOption(key); got != want {
			t.Errorf("IsCommonOption(%q) = %v, want %v", key, got, want)
		}
	}
}
