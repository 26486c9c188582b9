package stream

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	kafka "github.com/segmentio/kafka-go"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
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

// Retry backoff: from retryMin, doubling, up to retryMax.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// errStopping ends a retry loop when the stream is stopped.
var errStopping = errors.New("stream stopping")

// retry runs f until it succeeds, fails with an error other than
// source.IsUnavailable, or the stream is stopped (errStopping).
// Meanwhile the stream's status is 'retrying' with the last error.
func (s *Stream) retry(f func() error) error {
	backoff := retryMin
	retried := false
	for {
		err := f()
		if err == nil || !source.IsUnavailable(err) {
			if retried {
				s.mu.Lock()
				if s.status == StatusRetrying {
					s.status = StatusRunning
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
		s.setIdle(true)
		select {
		case <-s.stop:
			s.setIdle(false)
			return errStopping
		case <-s.m.cfg.Clock.After(backoff):
		}
		s.setIdle(false)
		backoff = min(2*backoff, retryMax)
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

// kafkaWriter returns a writer producing to topic, partitioned by key
// the way Kafka's Java client does (murmur2), acknowledged by all
// in-sync replicas.
func kafkaWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1 << 14,
		BatchBytes:             source.MaxKafkaFetchBytes,
		BatchTimeout:           time.Millisecond,
		MaxAttempts:            3,
		WriteTimeout:           10 * time.Second,
		AllowAutoTopicCreation: true,
		Transport:              &kafka.Transport{DialTimeout: 10 * time.Second, ClientID: "sluice"},
	}
}

// produce writes msgs, turning errors a retry may cure into
// source.Unavailable and the others (a message too large, a topic
// the broker refuses) into plain errors that fail the stream.
func produce(ctx context.Context, w *kafka.Writer, what string, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	err := w.WriteMessages(ctx, msgs...)
	if err == nil {
		return nil
	}
	var errs []error
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				errs = append(errs, e)
			}
		}
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var ke kafka.Error
		if errors.As(e, &ke) && !ke.Temporary() {
			return sqlerr.Wrap(sqlerr.IOError, &kafkaWriteError{what: what, err: e})
		}
	}
	return source.Unavailable(what, errs[0])
}

type kafkaWriteError struct {
	what string
	err  error
}

func (e *kafkaWriteError) Error() string { return e.what + ": " + e.err.Error() }
func (e *kafkaWriteError) Unwrap() error { return e.err }

// kafkaSink produces every output row as a JSON message. It is
// at-least-once: a batch re-run after a crash is produced again, with the
// same batch id in its headers.
type kafkaSink struct {
	w      *kafka.Writer
	enc    *source.JSONEncoder
	stream string
	topic  string
	key    int // output column keying the messages; -1 for none
	keyT   sqltypes.Type
	buf    []byte
	msgs   []kafka.Message
}

func newKafkaSink(stream string, cols []plan.Column, opts map[string]string) (*kafkaSink, error) {
	var brokers []string
	for _, b := range strings.Split(opts["brokers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	enc, err := source.NewJSONEncoder(exec.SchemaOf(cols))
	if err != nil {
		return nil, err
	}
	k := &kafkaSink{w: kafkaWriter(brokers, opts["topic"]), enc: enc, stream: stream, topic: opts["topic"], key: -1}
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
	return produce(ctx, k.w, "stream "+k.stream+": produce to topic "+k.topic, k.msgs)
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
			{Key: HeaderError, Value: []byte(b.Err)},
		}}
		if msgs[i].Value == nil {
			msgs[i].Value = []byte{} // a dead letter is never a tombstone
		}
	}
	return produce(ctx, s.dlq, "stream "+s.spec.Name+": produce to dead-letter topic "+s.dlq.Topic, msgs)
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
