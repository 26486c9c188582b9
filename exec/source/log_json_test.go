package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

var jsonLog = LogOptions{Format: LogFormatJSON}

func mustAppendJSON(t *testing.T, l *Log, msgs ...string) int64 {
	t.Helper()
	raw := make([][]byte, len(msgs))
	for i, m := range msgs {
		raw[i] = []byte(m)
	}
	first, err := l.AppendJSON(context.Background(), raw)
	if err != nil {
		t.Fatalf("AppendJSON: %v", err)
	}
	return first
}

// readWithBad reads [s, e) and returns the rows and the bad records,
// checking the Read contract on the records as readRows does.
func readWithBad(t *testing.T, l *Log, mem memory.Allocator, s, e int64, maxRows int) ([][]any, []BadRecord) {
	t.Helper()
	recs, bad, err := l.ReadWithBad(context.Background(), mem, Offsets{0: s}, Offsets{0: e}, maxRows)
	if err != nil {
		t.Fatalf("ReadWithBad [%d, %d) maxRows %d: %v", s, e, maxRows, err)
	}
	defer release(recs)
	for i, rec := range recs {
		switch {
		case !rec.Schema().Equal(l.Schema()):
			t.Fatalf("record %d has schema %s, want %s", i, rec.Schema(), l.Schema())
		case rec.NumRows() == 0 || rec.NumRows() > int64(maxRows):
			t.Fatalf("record %d has %d rows, maxRows is %d", i, rec.NumRows(), maxRows)
		case i < len(recs)-1 && rec.NumRows() != int64(maxRows):
			t.Fatalf("record %d of %d has %d rows, want maxRows %d", i, len(recs), rec.NumRows(), maxRows)
		}
	}
	return rows(recs), bad
}

func TestLogJSONAppendThenReadGivesTheRowsBack(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, allTypes, LogOptions{Format: LogFormatJSON, SegmentBytes: 4096})
	if got := l.Format(); got != LogFormatJSON {
		t.Fatalf("Format() = %q, want json", got)
	}
	want := allTypesRows(0, 300)
	for i := int64(0); i < 300; i += 37 {
		if first := mustAppend(t, l, want[i:min(i+37, 300)]); first != i {
			t.Fatalf("Append returned first offset %d, want %d", first, i)
		}
	}
	if n := len(segFiles(t, dir)); n < 2 {
		t.Fatalf("the appends wrote %d segments, want several", n)
	}
	for _, maxRows := range []int{1, 7, 100, 1000} {
		got, bad := readWithBad(t, l, mem, 0, 300, maxRows)
		assertRows(t, fmt.Sprintf("Read maxRows %d", maxRows), got, want)
		if len(bad) != 0 {
			t.Fatalf("maxRows %d: got bad records %v", maxRows, bad)
		}
	}
	assertRows(t, "Read [41, 260)", readRows(t, l, mem, 41, 260, 50), want[41:260])

	// The frames hold the rows as JSON messages, keyed by column name.
	data, err := os.ReadFile(filepath.Join(dir, segName(0)))
	if err != nil {
		t.Fatal(err)
	}
	if msg := `{"id":3,"s":-97,"i":300009,"r":3.25,"f":1,"ok":true,"name":"é3","t":"abababü","ts":"2023-11-14T22:13:23.000009Z","d":"2024-03-02","iv":"3 mons 3 days -00:00:00.003003"}`; !bytes.Contains(data, []byte(msg)) {
		t.Fatalf("segment 0 does not hold the message %s", msg)
	}
}

func TestLogJSONAppendChecksRowsAsAnArrowLogDoes(t *testing.T) {
	l := openLog(t, t.TempDir(), kvVarchar, jsonLog)
	_, err := l.Append(context.Background(), [][]any{{int64(1), "ok"}, {int64(2), "too long"}})
	assertCode(t, err, sqlerr.StringDataRightTruncation, "column v")
	_, err = l.Append(context.Background(), [][]any{{"one", "x"}})
	if err == nil {
		t.Fatal("Append of a string for a BIGINT succeeded")
	}
	if got := latest(t, l); got != 0 {
		t.Fatalf("failed appends moved latest to %d", got)
	}
}

var kvVarchar = []Column{{"k", sqltypes.Int64}, {"v", sqltypes.Varchar(4)}}

func TestLogJSONAppendRecordsEncodesEachRow(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, kv, jsonLog)
	a := buildJSONRecord(t, mem, kv, kvRows(0, 3))
	defer a.Release()
	b := buildJSONRecord(t, mem, kv, kvRows(3, 5))
	defer b.Release()
	if first, err := l.AppendRecordsTagged(context.Background(), []arrow.Record{a, b}, 42); err != nil || first != 0 {
		t.Fatalf("AppendRecordsTagged = %d, %v; want 0", first, err)
	}
	if first, err := l.AppendRecords(context.Background(), []arrow.Record{a}); err != nil || first != 5 {
		t.Fatalf("AppendRecords = %d, %v; want 5", first, err)
	}
	assertRows(t, "Read", readRows(t, l, mem, 0, 8, 3), append(kvRows(0, 5), kvRows(0, 3)...))
	if tag, ok := l.LastTag(); !ok || tag != 42 {
		t.Fatalf("LastTag() = %d, %v; want 42", tag, ok)
	}
	// After a restart the tag and the rows are still there.
	l.Close()
	l = openLog(t, dir, kv, jsonLog)
	if tag, ok := l.LastTag(); !ok || tag != 42 {
		t.Fatalf("after reopening, LastTag() = %d, %v; want 42", tag, ok)
	}
	assertRows(t, "Read after reopening", readRows(t, l, mem, 0, 8, 100), append(kvRows(0, 5), kvRows(0, 3)...))
}

func TestLogJSONLeavesBadMessagesOutOfTheRecords(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, kvVarchar, LogOptions{Format: LogFormatJSON, SegmentBytes: 512})
	msgs := []string{
		`{"k":0,"v":"a"}`,
		`{"k":1,"v":"b"`, // 1: truncated
		`{"k":2,"v":"c"}`,
		`{"k":"three"}`, // 3: a string for a BIGINT
		``,              // 4: empty
		`{"K":5,"V":"e"}`,
		`{"k":6,"v":"fffff"}`,      // 6: longer than VARCHAR(4)
		"{\"k\":7,\"v\":\"\xff\"}", // 7: invalid UTF-8
		`[8]`,                      // 8: not an object
		`{"k":9}`,
	}
	// In frames of 3, 4 and 3 messages.
	for _, part := range [][]string{msgs[:3], msgs[3:7], msgs[7:]} {
		mustAppendJSON(t, l, part...)
	}
	mustAppend(t, l, [][]any{{int64(10), "j"}}) // the INSERT path, after raw messages
	wantRows := [][]any{{int64(0), "a"}, {int64(2), "c"}, {int64(5), "e"}, {int64(9), nil}, {int64(10), "j"}}
	wantBad := []BadRecord{
		{Offset: 1, Err: "malformed JSON at byte 14: want ',' or '}' after an object member, got the end of the message"},
		{Offset: 3, Err: `column "k": "three" is not an integer`},
		{Offset: 4, Err: "malformed JSON: empty message"},
		{Offset: 6, Err: `column "v": value too long for type character varying(4)`},
		{Offset: 7, Err: "malformed JSON at byte 12: invalid UTF-8 in a string"},
		{Offset: 8, Err: "not a JSON object"},
	}
	for i := range wantBad {
		wantBad[i].Value = []byte(msgs[wantBad[i].Offset])
	}
	for _, maxRows := range []int{1, 2, 100} {
		got, bad := readWithBad(t, l, mem, 0, 11, maxRows)
		assertRows(t, fmt.Sprintf("rows, maxRows %d", maxRows), got, wantRows)
		assertBad(t, bad, wantBad)
	}
	// A range gets the bad records within it, and Read the same rows.
	got, bad := readWithBad(t, l, mem, 3, 7, 10)
	assertRows(t, "rows of [3, 7)", got, wantRows[2:3])
	assertBad(t, bad, wantBad[1:4])
	assertRows(t, "Read of [3, 7)", rows(mustRead(t, l, mem, 3, 7)), wantRows[2:3])
	// A range of only bad messages has no records.
	if got, bad := readWithBad(t, l, mem, 3, 5, 10); len(got) != 0 || len(bad) != 2 {
		t.Fatalf("[3, 5) gave %d rows and %d bad records, want 0 and 2", len(got), len(bad))
	}
	// The bad records belong to the caller: changing one changes nothing.
	_, bad = readWithBad(t, l, mem, 0, 11, 100)
	bad[0].Value[0] = 'X'
	_, bad = readWithBad(t, l, mem, 0, 11, 100)
	assertBad(t, bad, wantBad)
	// And they survive a restart.
	l.Close()
	l = openLog(t, dir, kvVarchar, LogOptions{Format: LogFormatJSON, SegmentBytes: 512})
	got, bad = readWithBad(t, l, mem, 0, 11, 4)
	assertRows(t, "rows after reopening", got, wantRows)
	assertBad(t, bad, wantBad)
}

func mustRead(t *testing.T, l *Log, mem memory.Allocator, s, e int64) []arrow.Record {
	t.Helper()
	recs, err := l.Read(context.Background(), mem, Offsets{0: s}, Offsets{0: e}, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { release(recs) })
	return recs
}

func assertBad(t *testing.T, got, want []BadRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d bad records %v, want %d", len(got), got, len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Partition != 0 || g.Offset != w.Offset || g.Err != w.Err || !bytes.Equal(g.Value, w.Value) || g.Key != nil {
			t.Fatalf("bad record %d:\n got {partition %d offset %d err %q value %q key %q}\nwant {partition 0 offset %d err %q value %q key nil}",
				i, g.Partition, g.Offset, g.Err, g.Value, g.Key, w.Offset, w.Err, w.Value)
		}
	}
}

func TestLogArrowHasNoBadRecordsAndRefusesAppendJSON(t *testing.T) {
	mem := checkedAlloc(t)
	l := openLog(t, t.TempDir(), kv, LogOptions{})
	if got := l.Format(); got != LogFormatArrow {
		t.Fatalf("Format() = %q, want arrow", got)
	}
	mustAppend(t, l, kvRows(0, 4))
	_, err := l.AppendJSON(context.Background(), [][]byte{[]byte(`{"k":1}`)})
	assertCode(t, err, sqlerr.WrongObjectType, "format is 'arrow'")
	got, bad := readWithBad(t, l, mem, 0, 4, 3)
	assertRows(t, "rows", got, kvRows(0, 4))
	if bad != nil {
		t.Fatalf("an arrow log returned bad records %v", bad)
	}
}

func TestLogOpenedWithTheOtherFormatFailsOnRead(t *testing.T) {
	for _, tc := range []struct {
		name          string
		wrote, opened LogOptions
		want          string
	}{
		{"A json log opened as arrow", jsonLog, LogOptions{}, "holds JSON messages (format 'json'), but the log is opened with format 'arrow'"},
		{"An arrow log opened as json", LogOptions{}, jsonLog, "holds Arrow records of the columns (format 'arrow'), but the log is opened with format 'json'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedAlloc(t)
			dir := t.TempDir()
			l := openLog(t, dir, kv, tc.wrote)
			mustAppend(t, l, kvRows(0, 3))
			l.Close()
			l = openLog(t, dir, kv, tc.opened)
			_, _, err := l.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: 3}, 10)
			assertCode(t, err, sqlerr.DatatypeMismatch, tc.want)
			_, err = l.Read(context.Background(), mem, Offsets{0: 1}, Offsets{0: 2}, 10)
			assertCode(t, err, sqlerr.DatatypeMismatch, tc.want)
		})
	}
}

func TestLogJSONRetentionDeletesOldSegments(t *testing.T) {
	mem := checkedAlloc(t)
	l := openLog(t, t.TempDir(), kv, LogOptions{Format: LogFormatJSON, SegmentBytes: 256, RetentionRows: 20})
	for i := int64(0); i < 100; i += 5 {
		var msgs []string
		for j := i; j < i+5; j++ {
			if j%10 == 7 {
				msgs = append(msgs, `{"k":`) // bad
			} else {
				msgs = append(msgs, fmt.Sprintf(`{"k":%d,"v":"value %d"}`, j, j))
			}
		}
		mustAppendJSON(t, l, msgs...)
	}
	e := earliest(t, l)
	if e == 0 || e > 80 {
		t.Fatalf("earliest is %d after 100 messages with retention of 20, want in (0, 80]", e)
	}
	_, _, err := l.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: 100}, 10)
	assertDeleted(t, err, OffsetsDeletedError{Source: l.name, Partition: 0, Start: 0, End: 100, Earliest: e})
	got, bad := readWithBad(t, l, mem, e, 100, 10)
	var want [][]any
	var wantBad []int64
	for j := e; j < 100; j++ {
		if j%10 == 7 {
			wantBad = append(wantBad, j)
		} else {
			want = append(want, kvRow(j))
		}
	}
	assertRows(t, "rows kept", got, want)
	if len(bad) != len(wantBad) {
		t.Fatalf("got %d bad records, want %d", len(bad), len(wantBad))
	}
	for i, b := range bad {
		if b.Offset != wantBad[i] {
			t.Fatalf("bad record %d has offset %d, want %d", i, b.Offset, wantBad[i])
		}
	}
}

func TestLogFormatOption(t *testing.T) {
	for _, tc := range []struct {
		val, want string
	}{{"json", LogFormatJSON}, {" JSON ", LogFormatJSON}, {"arrow", LogFormatArrow}, {"Arrow", LogFormatArrow}} {
		o, err := ParseLogOptions(map[string]string{"format": tc.val, "connector": "log"})
		if err != nil || o.Format != tc.want {
			t.Fatalf("ParseLogOptions(format = %q) = %+v, %v; want format %q", tc.val, o, err, tc.want)
		}
	}
	for _, val := range []string{"avro", "", "json lines"} {
		_, err := ParseLogOptions(map[string]string{"FORMAT": val})
		assertCode(t, err, sqlerr.InvalidParameterValue, "option FORMAT", fmt.Sprintf("%q", val))
	}
	_, err := OpenLog(context.Background(), t.TempDir(), kv, LogOptions{Format: "csv"})
	assertCode(t, err, sqlerr.InvalidParameterValue, "option format", `"csv"`)
}

func TestLogJSONConcurrentAppendsAndReads(t *testing.T) {
	mem := checkedAlloc(t)
	l := openLog(t, t.TempDir(), kv, LogOptions{Format: LogFormatJSON, SegmentBytes: 2048})
	const writers, perWriter = 4, 50
	done := make(chan error, writers+1)
	for w := range writers {
		go func() {
			for i := range perWriter {
				var err error
				if i%2 == 0 {
					_, err = l.AppendJSON(context.Background(), [][]byte{[]byte(fmt.Sprintf(`{"k":%d,"v":"w"}`, w)), []byte(`nope`)})
				} else {
					_, err = l.Append(context.Background(), [][]any{{int64(w), "w"}})
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range 50 {
			o, err := l.Latest(context.Background())
			if err != nil {
				done <- err
				return
			}
			n := o[0]
			recs, bad, err := l.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: n}, 16)
			if err != nil {
				done <- err
				return
			}
			good := int64(len(rows(recs)))
			release(recs)
			if good+int64(len(bad)) != n {
				done <- fmt.Errorf("read %d rows and %d bad records of %d messages", good, len(bad), n)
				return
			}
			for _, b := range bad {
				if string(b.Value) != "nope" || !strings.HasPrefix(b.Err, "malformed JSON") {
					done <- fmt.Errorf("unexpected bad record %+v", b)
					return
				}
			}
		}
		done <- nil
	}()
	for range writers + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := latest(t, l), int64(writers*perWriter/2*3); got != want {
		t.Fatalf("latest = %d, want %d", got, want)
	}
}

// BenchmarkLogJSONRead reads a million clicks messages, appended in frames
// of 8192, back into records of 8192 rows.
func BenchmarkLogJSONRead(b *testing.B) {
	ctx := context.Background()
	l, err := OpenLog(ctx, b.TempDir(), clicksCols, jsonLog)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	msgs := benchClicks()
	const frame = 8192
	n := len(msgs)
	for i := 0; i < n; i += frame {
		if _, err := l.AppendJSON(ctx, msgs[i:min(i+frame, n)]); err != nil {
			b.Fatal(err)
		}
	}
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		recs, bad, err := l.ReadWithBad(ctx, mem, Offsets{0: 0}, Offsets{0: int64(n)}, frame)
		if err != nil || len(bad) != 0 {
			b.Fatal(err, bad)
		}
		release(recs)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/msg")
}

// scatteredMessages returns n messages for kvVarchar, message i for
// offset i, with bad ones of several kinds scattered among them (about
// one in ten) and a run of 700 bad ones from offset 2000, longer than
// many frames and tasks.
func scatteredMessages(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	msgs := make([][]byte, n)
	for i := range n {
		var m string
		switch x := r.IntN(100); {
		case x < 3:
			m = fmt.Sprintf(`{"k":%d,"v":"x"`, i) // truncated
		case x < 5:
			m = `{"k":"seven"}`
		case x < 7:
			m = fmt.Sprintf(`{"k":%d,"v":"too long"}`, i)
		case x < 8:
			m = ``
		case x < 10:
			m = fmt.Sprintf(`{"k":%d}`, i) // v is NULL
		default:
			m = fmt.Sprintf(`{"k":%d,"v":"%s"}`, i, strings.Repeat("v", r.IntN(5)))
		}
		msgs[i] = []byte(m)
	}
	for i := 2000; i < min(2700, n); i++ {
		msgs[i] = []byte(`nope`)
	}
	return msgs
}

// appendInRandomFrames appends msgs to l in frames of 1 to maxFrame
// messages.
func appendInRandomFrames(t *testing.T, l *Log, msgs [][]byte, maxFrame int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	for i := 0; i < len(msgs); {
		j := min(i+1+r.IntN(maxFrame), len(msgs))
		if _, err := l.AppendJSON(context.Background(), msgs[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
	}
}

// decodeOneByOne decodes msgs[s:e] (msgs[i] is the message at offset i)
// one at a time with one decoder, as a log of cols declares its columns:
// the rows that decode and the bad records, in offset order.
func decodeOneByOne(t *testing.T, mem memory.Allocator, cols []Column, msgs [][]byte, s, e int64) ([][]any, []BadRecord) {
	t.Helper()
	schema, err := schemaOf(cols)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewJSONDecoder(schema.Fields())
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		if c.Type.Kind == sqltypes.KindText && c.Type.Width > 0 {
			dec.SetTextWidth(i, c.Type.Width)
		}
	}
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	var bad []BadRecord
	for i := s; i < e; i++ {
		if err := dec.Decode(msgs[i], rb.Fields()); err != nil {
			bad = append(bad, BadRecord{Offset: i, Err: err.Error(), Value: msgs[i]})
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	return rows([]arrow.Record{rec}), bad
}

// waitGoroutines fails the test unless the goroutines a read started
// have all gone: the count comes back to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before the read:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// A json log's read decodes on several goroutines, in tasks of
// consecutive messages that cross frames and segments; whatever the
// workers, task size, maxRows and range, the records and bad records are
// those of decoding the messages one by one (readWithBad checks that the
// records are maxRows rows but the last), and those of a one-worker read.
func TestLogJSONParallelReadEqualsDecodingOneByOne(t *testing.T) {
	mem := checkedAlloc(t)
	const n = 5000
	msgs := scatteredMessages(n, 1)
	l := openLog(t, t.TempDir(), kvVarchar, LogOptions{Format: LogFormatJSON, SegmentBytes: 8 << 10})
	appendInRandomFrames(t, l, msgs, 300, 1)
	if segs := len(l.segs); segs < 4 {
		t.Fatalf("%d segments, want several", segs)
	}
	base := runtime.NumGoroutine()
	for _, tc := range []struct {
		s, e    int64
		maxRows []int
	}{
		{0, n, []int{7, 100, 4096}},
		{137, 4811, []int{3, 999}},
		{1900, 2800, []int{1, 7, 100}}, // across the run of bad messages
		{2100, 2650, []int{1, 100}},    // within it
		{3000, 3001, []int{1, 100}},
	} {
		s, e := tc.s, tc.e
		wantRows, wantBad := decodeOneByOne(t, mem, kvVarchar, msgs, s, e)
		if e-s > 1000 && (len(wantBad) == 0 || len(wantRows) == 0) {
			t.Fatalf("[%d, %d) has %d good and %d bad messages, want both", s, e, len(wantRows), len(wantBad))
		}
		for _, maxRows := range tc.maxRows {
			l.readWorkers, l.readTaskRows = 1, 0
			oneRows, oneBad := readWithBad(t, l, mem, s, e, maxRows)
			what := fmt.Sprintf("[%d, %d) maxRows %d", s, e, maxRows)
			assertRows(t, what+", one worker", oneRows, wantRows)
			assertBad(t, oneBad, wantBad)
			for _, workers := range []int{2, 3, 8} {
				for _, task := range []int{1, 50, 999, 0} {
					if task == 1 && e-s > 1000 {
						continue // slow with the checked allocator, and nothing new
					}
					l.readWorkers, l.readTaskRows = workers, task
					got, bad := readWithBad(t, l, mem, s, e, maxRows)
					what := fmt.Sprintf("%s, %d workers, tasks of %d", what, workers, task)
					assertRows(t, what, got, oneRows)
					assertBad(t, bad, oneBad)
				}
			}
		}
	}
	waitGoroutines(t, base)
}

// With the defaults (GOMAXPROCS workers, tasks of jsonTaskMessages) and
// the bench's shape, frames of 8192 read with maxRows 16384, the same
// holds.
func TestLogJSONParallelReadDefaults(t *testing.T) {
	mem := checkedAlloc(t)
	const n = 3*jsonTaskMessages + 1234
	msgs := scatteredMessages(n, 2)
	l := openLog(t, t.TempDir(), kvVarchar, jsonLog)
	for i := 0; i < n; i += 8192 {
		if _, err := l.AppendJSON(context.Background(), msgs[i:min(i+8192, n)]); err != nil {
			t.Fatal(err)
		}
	}
	base := runtime.NumGoroutine()
	for _, maxRows := range []int{1 << 14, 1000, 1 << 20} {
		wantRows, wantBad := decodeOneByOne(t, mem, kvVarchar, msgs, 5, n)
		got, bad := readWithBad(t, l, mem, 5, n, maxRows)
		assertRows(t, fmt.Sprintf("maxRows %d", maxRows), got, wantRows)
		assertBad(t, bad, wantBad)
	}
	waitGoroutines(t, base)
}

// cancelAlloc cancels a context at its k-th allocation.
type cancelAlloc struct {
	memory.Allocator
	n, k   atomic.Int64
	cancel context.CancelFunc
}

func (a *cancelAlloc) Allocate(size int) []byte {
	if a.n.Add(1) == a.k.Load() {
		a.cancel()
	}
	return a.Allocator.Allocate(size)
}

// A read that fails (a corrupt frame, a deleted segment) fails as a
// one-worker read does; a cancelled one with ctx's error. Either way no
// goroutine is left and every buffer is released (checkedAlloc).
func TestLogJSONParallelReadErrors(t *testing.T) {
	const n = 5000
	msgs := scatteredMessages(n, 3)
	setup := func(t *testing.T) (*Log, string) {
		dir := t.TempDir()
		l := openLog(t, dir, kvVarchar, LogOptions{Format: LogFormatJSON, SegmentBytes: 8 << 10})
		appendInRandomFrames(t, l, msgs, 200, 3)
		return l, dir
	}
	// compare reads [0, n) with one worker and then with several, and
	// wants the same error from both.
	compare := func(t *testing.T, l *Log, code string) {
		mem := checkedAlloc(t)
		base := runtime.NumGoroutine()
		l.readWorkers, l.readTaskRows = 1, 0
		_, _, want := l.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: n}, 100)
		assertCode(t, want, code)
		for _, workers := range []int{2, 8} {
			for _, task := range []int{1, 100, 0} {
				l.readWorkers, l.readTaskRows = workers, task
				recs, bad, err := l.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: n}, 100)
				if recs != nil || bad != nil || err == nil || err.Error() != want.Error() || sqlerr.Code(err) != code {
					t.Fatalf("%d workers, tasks of %d: got %d records, %d bad, error %v; want none and %v", workers, task, len(recs), len(bad), err, want)
				}
			}
		}
		waitGoroutines(t, base)
	}
	t.Run("corrupt frame", func(t *testing.T) {
		l, dir := setup(t)
		files := segFiles(t, dir)
		path := filepath.Join(dir, files[len(files)/2])
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[frameHeader+40] ^= 0xff
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		compare(t, l, sqlerr.DataCorrupted)
	})
	t.Run("deleted segment", func(t *testing.T) {
		l, dir := setup(t)
		files := segFiles(t, dir)
		if err := os.Remove(filepath.Join(dir, files[len(files)/2])); err != nil {
			t.Fatal(err)
		}
		compare(t, l, sqlerr.InvalidParameterValue)
	})
	t.Run("cancelled", func(t *testing.T) {
		l, _ := setup(t)
		base := runtime.NumGoroutine()
		for _, workers := range []int{1, 2, 8} {
			l.readWorkers, l.readTaskRows = workers, 50
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, _, err := l.ReadWithBad(ctx, checkedAlloc(t), Offsets{0: 0}, Offsets{0: n}, 100)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%d workers: a read with a cancelled ctx returned %v", workers, err)
			}
		}
		// Cancelled at the k-th allocation: in the middle of reading
		// frames, decoding or gathering, with tasks waiting for a worker
		// or for the gatherer.
		for _, c := range [][2]int{{1, 0}, {2, 50}, {2, 1000}, {8, 50}, {8, 300}} {
			workers := c[0]
			l.readWorkers, l.readTaskRows = workers, c[1]
			for _, k := range []int64{1, 2, 3, 10, 30, 50, 100, 200, 1000} {
				mem := checkedAlloc(t)
				ctx, cancel := context.WithCancel(context.Background())
				a := &cancelAlloc{Allocator: mem, cancel: cancel}
				a.k.Store(k)
				recs, _, err := l.ReadWithBad(ctx, a, Offsets{0: 0}, Offsets{0: n}, 100)
				cancel()
				switch {
				case err == nil:
					// The cancel came too late to stop the read.
					if got := len(rows(recs)); a.n.Load() >= k && got == 0 {
						t.Fatalf("%d workers, cancel at allocation %d: no error and no rows", workers, k)
					}
					release(recs)
				case !errors.Is(err, context.Canceled):
					t.Fatalf("%d workers, cancel at allocation %d: got %v, want context.Canceled", workers, k, err)
				case recs != nil:
					t.Fatalf("%d workers, cancel at allocation %d: records with the error", workers, k)
				}
			}
		}
		waitGoroutines(t, base)
	})
}
