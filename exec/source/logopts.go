package source

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// DefaultSegmentBytes is the size at which a log rolls to a new segment
// when LogOptions.SegmentBytes is 0.
const DefaultSegmentBytes = 8 << 20

// Formats of a log (LogOptions.Format).
const (
	// LogFormatArrow: each frame holds an Arrow record of the declared
	// columns.
	LogFormatArrow = "arrow"
	// LogFormatJSON: each frame holds raw messages, one JSON object each
	// (or anything else: the log stores what it is given), which Read
	// decodes into the declared columns; the log behaves like a local
	// Kafka topic of JSON messages.
	LogFormatJSON = "json"
)

// LogOptions configures a Log. The zero value is valid: Arrow frames,
// 8 MiB segments, nothing ever deleted.
type LogOptions struct {
	// Name names the source in error messages. Default: the directory.
	Name string
	// Format is LogFormatArrow or LogFormatJSON. Default (""):
	// LogFormatArrow. It is not stored in the log: a log must be opened
	// with the format it was written with (reading frames of the other
	// format fails with SQLSTATE 42804).
	Format string
	// SegmentBytes is the size after which the next append starts a new
	// segment file. A single append is never split, so a segment may end
	// larger. Default (0): DefaultSegmentBytes.
	SegmentBytes int64
	// RetentionRows, when positive, lets retention delete a segment once
	// all its rows are more than RetentionRows behind the latest offset.
	RetentionRows int64
	// RetentionAge, when positive, lets retention delete a segment once its
	// newest row was appended more than RetentionAge ago.
	RetentionAge time.Duration
	// Now is the clock for append times and age retention. Default:
	// time.Now.
	Now func() time.Time
}

// Validate reports whether the options are usable (22023 if not).
func (o LogOptions) Validate() error {
	switch {
	case o.Format != "" && o.Format != LogFormatArrow && o.Format != LogFormatJSON:
		return badValue("format", o.Format, "'arrow' or 'json'", nil)
	case o.SegmentBytes < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid segment_bytes %d: must be positive", o.SegmentBytes)
	case o.RetentionRows < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid retention of %d rows: must be positive", o.RetentionRows)
	case o.RetentionAge < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid retention of %s: must be positive", o.RetentionAge)
	}
	return nil
}

// ParseLogOptions parses the WITH options of a log source: format
// ('arrow' or 'json', in any case), segment_bytes (a positive integer)
// and retention ('1000 rows', or a duration such as '7 days', '1h', '90
// minutes'). Common source options (IsCommonOption)
// are skipped. An unknown key is a 42601 error naming it; a bad value is a
// 22023 error naming key and value.
func ParseLogOptions(opts map[string]string) (LogOptions, error) {
	var o LogOptions
	for _, key := range sortedKeys(opts) {
		val := opts[key]
		if IsCommonOption(key) {
			continue
		}
		switch strings.ToLower(key) {
		case "format":
			switch f := strings.ToLower(strings.TrimSpace(val)); f {
			case LogFormatArrow, LogFormatJSON:
				o.Format = f
			default:
				return LogOptions{}, badValue(key, val, "'arrow' or 'json'", nil)
			}
		case "segment_bytes":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n <= 0 {
				return LogOptions{}, badValue(key, val, "a positive integer", err)
			}
			o.SegmentBytes = n
		case "retention":
			rows, age, err := parseRetention(val)
			if err != nil {
				return LogOptions{}, badValue(key, val, "'<n> rows' or a duration such as '7 days'", err)
			}
			o.RetentionRows, o.RetentionAge = rows, age
		default:
			return LogOptions{}, unknownOption("log", key)
		}
	}
	return o, o.Validate()
}

// parseRetention parses "<n> rows" or a positive duration: Go's form
// ("1h30m") or PostgreSQL's interval form without months ("7 days").
func parseRetention(s string) (rows int64, age time.Duration, err error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 2 && (f[1] == "rows" || f[1] == "row") {
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if n <= 0 {
			return 0, 0, errNotPositive
		}
		return n, 0, nil
	}
	if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
		if d <= 0 {
			return 0, 0, errNotPositive
		}
		return 0, d, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, 0, err
	}
	if d <= 0 {
		return 0, 0, errNotPositive
	}
	return 0, d, nil
}

// parseDuration parses a PostgreSQL interval without months or years as
// a duration, a day being 24 hours.
func parseDuration(s string) (time.Duration, error) {
	v, err := sqltypes.ParseText(sqltypes.IntervalT, s)
	if err != nil {
		return 0, err
	}
	iv := v.(sqltypes.Interval)
	if iv.Months != 0 {
		return 0, errMonths
	}
	// A time.Duration holds ±maxMicros microseconds; Days*microsPerDay
	// could wrap for large day counts, so check before multiplying.
	const maxMicros = math.MaxInt64 / int64(time.Microsecond)
	days := int64(iv.Days)
	if days > maxMicros/microsPerDay || days < -maxMicros/microsPerDay {
		return 0, errDurationRange
	}
	us := days * microsPerDay
	if (iv.Micros > 0 && us > maxMicros-iv.Micros) || (iv.Micros < 0 && us < -maxMicros-iv.Micros) {
		return 0, errDurationRange
	}
	return time.Duration(us+iv.Micros) * time.Microsecond, nil
}

type optError string

func (e optError) Error() string { return string(e) }

const (
	errNotPositive   = optError("must be positive")
	errMonths        = optError("months and years have no fixed length")
	errDurationRange = optError("duration out of range")
)

// badValue is the 22023 error for an option value.
func badValue(key, val, want string, cause error) error {
	if cause != nil {
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %q for option %s: want %s: %w", val, key, want, cause)
	}
	return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %q for option %s: want %s", val, key, want)
}

// unknownOption is the 42601 error for an option key.
func unknownOption(connector, key string) error {
	return sqlerr.New(sqlerr.SyntaxError, "unknown option %q for connector '%s'", key, connector)
}
