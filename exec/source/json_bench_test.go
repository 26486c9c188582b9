package source

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// clicksMessages returns n JSON messages of the clicks schema, as a
// producer would write them: RFC 3339 timestamps with milliseconds, keys
// in schema order.
func clicksMessages(n int) [][]byte {
	r := rand.New(rand.NewPCG(7, 8))
	pages := []string{"/home", "/cart", "/checkout", "/search?q=shoes", "/product/12345", "/account/settings"}
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, n*96)
	msgs := make([][]byte, n)
	for i := range n {
		start := len(buf)
		at := base.Add(time.Duration(i) * 997 * time.Microsecond).Truncate(time.Millisecond)
		buf = fmt.Appendf(buf, `{"ts":"%s","user_id":%d,"page":"%s","latency_ms":%d}`,
			at.Format("2006-01-02T15:04:05.000Z07:00"), r.Int64N(10_000_000), pages[r.IntN(len(pages))], r.IntN(2000))
		msgs[i] = buf[start:len(buf):len(buf)]
	}
	return msgs
}

// benchMessages is how many distinct messages a benchmark cycles through.
const benchMessages = 1 << 20

// benchClicks builds the messages once for all benchmarks.
var benchClicks = sync.OnceValue(func() [][]byte { return clicksMessages(benchMessages) })

// benchDecode runs decode over the clicks messages, one message per op,
// into builders that are turned into a record every 8192 rows and then
// reserve room for the next 8192 (as a source's Read does), and reports
// messages per second.
func benchDecode(b *testing.B, decode func(msg []byte, bs []array.Builder) error) {
	msgs := benchClicks()
	mem := memory.NewGoAllocator()
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(jsonFields(b, clicksCols...), nil))
	defer rb.Release()
	bs := rb.Fields()
	const batch = 8192
	rb.Reserve(batch)
	var bytes int64
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msg := msgs[i%len(msgs)]
		bytes += int64(len(msg))
		if err := decode(msg, bs); err != nil {
			b.Fatal(err)
		}
		if i++; i%batch == 0 {
			rb.NewRecord().Release()
			rb.Reserve(batch)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
	b.SetBytes(bytes / int64(max(i, 1)))
}

func BenchmarkJSONDecodeClicks(b *testing.B) {
	d, err := NewJSONDecoder(jsonFields(b, clicksCols...))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, d.Decode)
}

// BenchmarkJSONDecodeClicksStdlib is the baseline: encoding/json into a
// struct (its time.Time parses RFC 3339), then appended to the same
// builders.
func BenchmarkJSONDecodeClicksStdlib(b *testing.B) {
	var click struct {
		TS        *time.Time `json:"ts"`
		UserID    *int64     `json:"user_id"`
		Page      *string    `json:"page"`
		LatencyMS *int32     `json:"latency_ms"`
	}
	benchDecode(b, func(msg []byte, bs []array.Builder) error {
		click.TS, click.UserID, click.Page, click.LatencyMS = nil, nil, nil, nil
		if err := json.Unmarshal(msg, &click); err != nil {
			return err
		}
		if click.TS != nil {
			bs[0].(*array.TimestampBuilder).Append(arrow.Timestamp(click.TS.UnixMicro()))
		} else {
			bs[0].AppendNull()
		}
		if click.UserID != nil {
			bs[1].(*array.Int64Builder).Append(*click.UserID)
		} else {
			bs[1].AppendNull()
		}
		if click.Page != nil {
			bs[2].(*array.StringBuilder).Append(*click.Page)
		} else {
			bs[2].AppendNull()
		}
		if click.LatencyMS != nil {
			bs[3].(*array.Int32Builder).Append(*click.LatencyMS)
		} else {
			bs[3].AppendNull()
		}
		return nil
	})
}

func BenchmarkJSONEncodeClicks(b *testing.B) {
	msgs := benchClicks()
	mem := memory.NewGoAllocator()
	fields := jsonFields(b, clicksCols...)
	d, err := NewJSONDecoder(fields)
	if err != nil {
		b.Fatal(err)
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	const batch = 8192
	for _, m := range msgs[:batch] {
		if err := d.Decode(m, rb.Fields()); err != nil {
			b.Fatal(err)
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	e, err := NewJSONEncoder(rec.Schema())
	if err != nil {
		b.Fatal(err)
	}
	cols := rec.Columns()
	var buf []byte
	var bytes int64
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = e.Append(buf[:0], cols, i%batch)
		bytes += int64(len(buf))
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
	b.SetBytes(bytes / int64(max(i, 1)))
}
