package stream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	kafka "github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// The headers every message of a Kafka sink carries: a consumer drops
// the duplicates an at-least-once sink may write after a crash by
// remembering the last batch it saw of each stream.
const (
	HeaderStream = "sluice-stream"
	HeaderBatch  = "sluice-batch"
	// HeaderError, on a dead-letter message, says why the record could
	// not be decoded; HeaderSource, HeaderPartition and HeaderOffset say
	// where it came from.
	HeaderError     = "sluice-error"
	HeaderSource    = "sluice-source"
	HeaderPartition = "sluice-partition"
	HeaderOffset    = "sluice-offset"
)

// StatusRetrying is the status of a stream whose source or sink could
// not reach its brokers: it tries again with backoff and goes on from
// where it was, losing nothing.
const StatusRetrying = "retrying"

// Retry backoff: from retryMin, doubling, up to retryMax (streams and
// changelog feeds).
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// nextBackoff is the wait before the next try: retryMin after the first
// failure (prev 0), then twice prev, never above limit.
func nextBackoff(prev, limit time.Duration) time.Duration {
	if prev == 0 {
		return min(retryMin, limit)
	}
	return min(2*prev, limit)
}

// errStopping ends a retry loop when the stream is stopped.
var errStopping = errors.New("stream stopping")

// retry runs f until it succeeds, fails with an error other than
// source.IsUnavailable, or the stream is stopped (errStopping).
// Meanwhile the stream's status is 'retrying' with the last error.
func (s *Stream) retry(f func() error) error {
	var backoff time.Duration
	retried := false
	for {
		err := f()
		if err == nil || !source.IsUnavailable(err) {
			if retried {
				s.mu.Lock()
				if s.status == StatusRetrying {
					s.status = StatusRunning
					s.lastErr = nil // it is past: the stream runs again
				}
				s.signalLocked()
				s.mu.Unlock()
			}
			return err
		}
		if !retried {
			s.m.cfg.Logger.Warn("stream retrying", "stream", s.spec.Name, "err", err)
		}
		retried = true
		s.mu.Lock()
		if s.status != StatusFailed {
			s.status = StatusRetrying
		}
		s.lastErr = err
		s.signalLocked()
		s.mu.Unlock()
		backoff = nextBackoff(backoff, retryMax)
		if err := s.waitRetry(backoff); err != nil {
			return err
		}
	}
}

// waitRetry waits backoff before the next try, or while the stream is
// paused (PAUSE STREAM while it retries: it stops calling the brokers
// and shows 'paused' until RESUME), or until it is stopped
// (errStopping).
func (s *Stream) waitRetry(backoff time.Duration) error {
	s.setIdle(true)
	defer s.setIdle(false)
	timer := s.m.cfg.Clock.After(backoff)
	fired := false
	for {
		s.mu.Lock()
		paused := s.paused
		s.seenCtl = s.ctl
		switch {
		case paused && s.status != StatusFailed:
			s.status = StatusPaused
			s.signalLocked()
		case !paused && s.status == StatusPaused:
			s.status = StatusRetrying
			s.signalLocked()
		}
		s.mu.Unlock()
		if fired && !paused {
			return nil
		}
		select {
		case <-s.stop:
			return errStopping
		case <-s.wake: // paused or resumed: look again
		case <-timer:
			fired, timer = true, nil
		}
	}
}

// readSource reads a planned range, with the records that could not be
// decoded when the source can have them.
func (s *Stream) readSource(ctx context.Context, start, end source.Offsets) ([]arrow.Record, []source.BadRecord, error) {
	if br, ok := s.src.src.(source.BadRecordReader); ok {
		return br.ReadWithBad(ctx, s.m.cfg.Mem, start, end, 1<<14)
	}
	recs, err := s.src.src.Read(ctx, s.m.cfg.Mem, start, end, 1<<14)
	return recs, nil, err
}

// producer writes messages to one topic with kafka-go's Client: each
// write groups its messages by partition (murmur2 of the key, as
// Kafka's Java client; round robin without a key) and sends one produce
// request per partition and megabyte, the partitions concurrently, acked
// by all in-sync replicas. (kafka-go's Writer, with its batching
// goroutines, cost a third of the CPU of a Kafka-to-Kafka stream.)
type producer struct {
	client *kafka.Client
	topic  string

	mu      sync.Mutex
	parts   []int // the topic's partitions, cached for a second
	partsAt time.Time
	next    int // round robin for messages without a key
}

// recordSize is an upper bound of a record's encoded size: its bytes
// and, generously, the varint lengths and deltas around them.
func recordSize(r kafka.Record) int {
	n := 32 + r.Value.Len()
	if r.Key != nil {
		n += r.Key.Len()
	}
	for _, h := range r.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

// produceRequestBytes bounds the record bytes of one produce request,
// under the brokers' default message.max.bytes (1 MiB).
const produceRequestBytes = 900 << 10

func newProducer(brokers []string, topic string) *producer {
	return &producer{topic: topic, client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second,
		Transport: &kafka.Transport{DialTimeout: 10 * time.Second, ClientID: "sluice", MetadataTTL: time.Second, MetadataTopics: []string{topic}}}}
}

// partitions returns the topic's partitions, creating the topic where
// the brokers allow it.
func (p *producer) partitions(ctx context.Context) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parts != nil && time.Since(p.partsAt) < time.Second {
		return p.parts, nil
	}
	// Bounded: kafka-go retries a topic being created until the context
	// ends.
	ctx, cancel := context.WithTimeout(ctx, p.client.Timeout)
	defer cancel()
	r, err := p.client.Transport.RoundTrip(ctx, p.client.Addr, &metadataAPI.Request{TopicNames: []string{p.topic}, AllowAutoTopicCreation: true})
	if err != nil {
		return nil, err
	}
	for _, t := range r.(*metadataAPI.Response).Topics {
		if t.Name != p.topic {
			continue
		}
		if t.ErrorCode != 0 {
			return nil, kafka.Error(t.ErrorCode)
		}
		parts := make([]int, len(t.Partitions))
		for i, tp := range t.Partitions {
			parts[i] = int(tp.PartitionIndex)
		}
		sort.Ints(parts)
		if len(parts) == 0 {
			return nil, kafka.LeaderNotAvailable // a topic being created
		}
		p.parts, p.partsAt = parts, time.Now()
		return parts, nil
	}
	return nil, kafka.UnknownTopicOrPartition
}

// write produces msgs. Errors a retry may cure (a broker away, a leader
// moving) are source.Unavailable; the others (a message too large, a
// topic the brokers refuse) are plain errors that fail the stream.
func (p *producer) write(ctx context.Context, what string, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	parts, err := p.partitions(ctx)
	if err != nil {
		return source.ClassifyKafkaError(what, err)
	}
	byPart := make(map[int][]kafka.Record, len(parts))
	var bal kafka.Murmur2Balancer
	p.mu.Lock()
	for _, m := range msgs {
		part := 0
		if m.Key != nil {
			part = bal.Balance(m, parts...)
		} else {
			part = parts[p.next%len(parts)]
			p.next++
		}
		rec := kafka.Record{Key: nil, Value: kafka.NewBytes(m.Value), Headers: m.Headers}
		if m.Key != nil {
			rec.Key = kafka.NewBytes(m.Key)
		}
		if rec.Value == nil {
			rec.Value = kafka.NewBytes([]byte{}) // never a tombstone
		}
		byPart[part] = append(byPart[part], rec)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, len(byPart))
	for part, recs := range byPart {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(recs) > 0 {
				n, size := 0, 0
				for n < len(recs) {
					rs := recordSize(recs[n])
					if n > 0 && size+rs > produceRequestBytes {
						break
					}
					size += rs
					n++
				}
				res, err := p.client.Produce(ctx, &kafka.ProduceRequest{Topic: p.topic, Partition: part,
					RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(recs[:n]...)})
				if err == nil {
					err = res.Error
				}
				if err == nil {
					for _, e := range res.RecordErrors {
						err = e
						break
					}
				}
				if err != nil {
					errs <- source.ClassifyKafkaError(fmt.Sprintf("%s (partition %d)", what, part), err)
					return
				}
				recs = recs[n:]
			}
		}()
	}
	wg.Wait()
	close(errs)
	var first error
	for e := range errs {
		// A permanent error wins over a retriable one: retrying would
		// not cure it.
		if first == nil || (source.IsUnavailable(first) && !source.IsUnavailable(e)) {
			first = e
		}
	}
	if first != nil {
		p.mu.Lock()
		p.parts = nil // look the partitions up again: leaders may have moved
		p.mu.Unlock()
	}
	return first
}

// kafkaSink produces every output row as a JSON message. It is
// at-least-once: a batch re-run after a crash is produced again, with the
// same batch id in its headers.
type kafkaSink struct {
	w      *producer
	enc    *source.JSONEncoder
	stream string
	topic  string
	key    int // output column keying the messages; -1 for none
	keyT   sqltypes.Type
	buf    []byte
	msgs   []kafka.Message
}

func newKafkaSink(stream string, cols []plan.Column, opts map[string]string) (*kafkaSink, error) {
	// The sink's brokers and topic are read and checked as a source's.
	ko, err := source.ParseKafkaOptions(map[string]string{"brokers": opts["brokers"], "topic": opts["topic"]})
	if err != nil {
		return nil, err
	}
	enc, err := source.NewJSONEncoder(exec.SchemaOf(cols))
	if err != nil {
		return nil, err
	}
	k := &kafkaSink{w: newProducer(ko.Brokers, ko.Topic), enc: enc, stream: stream, topic: ko.Topic, key: -1}
	if name := opts["key"]; name != "" {
		for i, c := range cols {
			if c.Name == name {
				k.key, k.keyT = i, c.Type
			}
		}
	}
	return k, nil
}

func (k *kafkaSink) write(ctx context.Context, batch int64, recs []arrow.Record) error {
	rows := 0
	for _, r := range recs {
		rows += int(r.NumRows())
	}
	if rows == 0 {
		return nil
	}
	// One buffer holds every message of the batch; messages are slices
	// of it, taken once it has stopped growing.
	k.buf = k.buf[:0]
	type span struct {
		k0, k1, v1 int // key [k0, k1), value [k1, v1)
		hasKey     bool
	}
	spans := make([]span, 0, rows)
	for _, r := range recs {
		cols := r.Columns()
		for i := 0; i < int(r.NumRows()); i++ {
			sp := span{k0: len(k.buf)}
			if k.key >= 0 && cols[k.key].IsValid(i) {
				k.buf = appendKey(k.buf, k.keyT, cols[k.key], i)
				sp.hasKey = true
			}
			sp.k1 = len(k.buf)
			k.buf = k.enc.Append(k.buf, cols, i)
			sp.v1 = len(k.buf)
			spans = append(spans, sp)
		}
	}
	headers := []kafka.Header{{Key: HeaderStream, Value: []byte(k.stream)}, {Key: HeaderBatch, Value: strconv.AppendInt(nil, batch, 10)}}
	k.msgs = k.msgs[:0]
	for _, sp := range spans {
		m := kafka.Message{Headers: headers, Value: k.buf[sp.k1:sp.v1:sp.v1]}
		if sp.hasKey {
			m.Key = k.buf[sp.k0:sp.k1:sp.k1]
		}
		k.msgs = append(k.msgs, m)
	}
	return k.w.write(ctx, "stream "+k.stream+": produce to topic "+k.topic, k.msgs)
}

// appendKey appends the text of a key value: a string's bytes, any other
// value as PostgreSQL prints it.
func appendKey(buf []byte, t sqltypes.Type, col arrow.Array, i int) []byte {
	if s, ok := col.(interface{ Value(int) string }); ok && t.Kind == sqltypes.KindText {
		return append(buf, s.Value(i)...)
	}
	return sqltypes.AppendText(buf, t, expr.ValueAt(col, i))
}

func (k *kafkaSink) Close() error { return k.w.Close() }

// Close releases the producer's connections.
func (p *producer) Close() error {
	if t, ok := p.client.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// deadLetters copies a batch's bad records to the source's dead-letter
// topic, if it has one, before the batch commits (at least once).
func (s *Stream) deadLetters(ctx context.Context, batch int64, bad []source.BadRecord) error {
	if len(bad) == 0 || s.dlq == nil {
		return nil
	}
	msgs := make([]kafka.Message, len(bad))
	for i, b := range bad {
		msgs[i] = kafka.Message{Key: b.Key, Value: b.Value, Headers: []kafka.Header{
			{Key: HeaderStream, Value: []byte(s.spec.Name)},
			{Key: HeaderBatch, Value: strconv.AppendInt(nil, batch, 10)},
			{Key: HeaderSource, Value: []byte(s.spec.Source)},
			{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(b.Partition), 10)},
			{Key: HeaderOffset, Value: strconv.AppendInt(nil, b.Offset, 10)},
			{Key: HeaderError, Value: []byte(truncate(b.Err, maxErrorHeader))},
		}}
	}
	return s.dlq.write(ctx, "stream "+s.spec.Name+": produce to dead-letter topic "+s.dlq.topic, msgs)
}

// commitGroup copies a committed batch's end offsets to the Kafka
// source's consumer group (group_id), for lag tools. It is best effort:
// the checkpoint owns the offsets, so a failure is logged, not retried.
func (s *Stream) commitGroup(ctx context.Context, end source.Offsets) {
	k, ok := s.src.src.(*source.Kafka)
	if !ok || k.Options().GroupID == "" {
		return
	}
	if err := k.CommitGroup(ctx, end); err != nil {
		s.m.cfg.Logger.Warn("commit offsets to consumer group", "stream", s.spec.Name, "group", k.Options().GroupID, "err", err)
	}
}

// maxErrorHeader bounds the sluice-error header of a dead letter.
const maxErrorHeader = 1000

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ErrorRow is a record a stream could not decode, as sluice_errors
// shows it.
type ErrorRow struct {
	Stream    string
	BatchID   int64
	Partition int32
	Offset    int64
	Err       string
	// Excerpt is the start of the record's value, as valid UTF-8.
	Excerpt string
	At      time.Time
}

// Bad records kept: the first errorsPerBatch of each batch, and at most
// maxErrorRows per manager (the oldest go first).
const (
	errorsPerBatch = 5
	maxErrorRows   = 1000
	excerptBytes   = 200
)

// recordErrors keeps the first few bad records of a committed batch.
func (m *Manager) recordErrors(stream string, batch int64, at time.Time, bad []source.BadRecord) {
	if len(bad) == 0 {
		return
	}
	m.errMu.Lock()
	defer m.errMu.Unlock()
	for _, b := range bad[:min(len(bad), errorsPerBatch)] {
		ex := b.Value
		if len(ex) > excerptBytes {
			ex = ex[:excerptBytes]
		}
		m.errRows = append(m.errRows, ErrorRow{Stream: stream, BatchID: batch, Partition: b.Partition, Offset: b.Offset,
			Err: b.Err, Excerpt: strings.ToValidUTF8(string(ex), string(utf8.RuneError)), At: at})
	}
	if n := len(m.errRows) - maxErrorRows; n > 0 {
		m.errRows = append(m.errRows[:0:0], m.errRows[n:]...)
	}
}

// Errors returns the bad records kept (sluice_errors), oldest first.
func (m *Manager) Errors() []ErrorRow {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	return append([]ErrorRow(nil), m.errRows...)
}

// forgetErrors drops a dropped stream's rows.
func (m *Manager) forgetErrors(stream string) {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	kept := m.errRows[:0]
	for _, r := range m.errRows {
		if r.Stream != stream {
			kept = append(kept, r)
		}
	}
	clear(m.errRows[len(kept):])
	m.errRows = kept
}
