package source

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// MaxKafkaFetchBytes caps the bytes asked for by one fetch request (and is
// its default): kafka-go's readers behaved erratically with larger values
// in our trials.
const MaxKafkaFetchBytes = 1 << 20

// KafkaOptions configures a Kafka source. Brokers and Topic are required.
type KafkaOptions struct {
	// Brokers are the bootstrap brokers, "host:port".
	Brokers []string
	// Topic is the topic read.
	Topic string
	// Format is the records' value format: "json" (the default and only
	// one).
	Format string
	// MaxBytes bounds one fetch request. Default and maximum:
	// MaxKafkaFetchBytes.
	MaxBytes int
	// DeadLetterTopic, when set, receives a copy of every record that
	// could not be decoded (the stream reading the source copies it).
	DeadLetterTopic string
	// GroupID, when set, is a consumer group the stream's committed
	// offsets are copied to after each batch, for lag tools
	// (kafka-consumer-groups --describe). Sluice never reads them back:
	// its checkpoint owns the offsets.
	GroupID string
	// Tombstones makes a record with a null value a row whose declared
	// columns are NULL and whose _deleted column is true (changelog-fed
	// tables); without it such a record is a bad record.
	Tombstones bool
	// Timeout bounds each request to the brokers. Default 10s.
	Timeout time.Duration
}

// Validate reports whether the options are usable (22023 if not).
func (o KafkaOptions) Validate() error {
	switch {
	case len(o.Brokers) == 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "connector 'kafka' needs option brokers ('host:port,...')")
	case o.Topic == "":
		return sqlerr.New(sqlerr.InvalidParameterValue, "connector 'kafka' needs option topic")
	case o.Format != "" && o.Format != "json":
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %q for option format: want 'json'", o.Format)
	case o.MaxBytes < 0 || o.MaxBytes > MaxKafkaFetchBytes:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %d for option max_bytes: want 1 to %d", o.MaxBytes, MaxKafkaFetchBytes)
	case o.Timeout < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid timeout %s: must be positive", o.Timeout)
	}
	for _, b := range o.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return sqlerr.New(sqlerr.InvalidParameterValue, "invalid broker address %q: want host:port", b)
		}
	}
	return nil
}

// ParseKafkaOptions parses the WITH options of a Kafka source: brokers
// ('host:port,...'), topic, format ('json'), dead_letter_topic, group_id
// and max_bytes (per fetch, at most 1 MiB). Common source options
// (IsCommonOption) are skipped. An unknown key is a 42601 error naming it;
// a bad value is a 22023 error naming key and value.
func ParseKafkaOptions(opts map[string]string) (KafkaOptions, error) {
	var o KafkaOptions
	for _, key := range sortedKeys(opts) {
		val := opts[key]
		if IsCommonOption(key) {
			continue
		}
		switch strings.ToLower(key) {
		case "brokers":
			for _, b := range strings.Split(val, ",") {
				if b = strings.TrimSpace(b); b != "" {
					o.Brokers = append(o.Brokers, b)
				}
			}
			if len(o.Brokers) == 0 {
				return o, badValue(key, val, "a list of host:port", nil)
			}
		case "topic":
			o.Topic = strings.TrimSpace(val)
			if o.Topic == "" {
				return o, badValue(key, val, "a topic name", nil)
			}
		case "format":
			if !strings.EqualFold(val, "json") {
				return o, badValue(key, val, "'json'", nil)
			}
			o.Format = "json"
		case "dead_letter_topic":
			o.DeadLetterTopic = strings.TrimSpace(val)
			if o.DeadLetterTopic == "" {
				return o, badValue(key, val, "a topic name", nil)
			}
		case "group_id":
			o.GroupID = strings.TrimSpace(val)
			if o.GroupID == "" {
				return o, badValue(key, val, "a consumer group name", nil)
			}
		case "max_bytes":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 || n > MaxKafkaFetchBytes {
				return o, badValue(key, val, fmt.Sprintf("an integer from 1 to %d", MaxKafkaFetchBytes), nil)
			}
			o.MaxBytes = n
		default:
			return o, unknownOption("kafka", key)
		}
	}
	return o, o.Validate()
}

// The pseudo-columns of a Kafka source: columns with these names are
// filled from each record's metadata instead of its value.
const (
	kafkaKey       = "_key"
	kafkaPartition = "_partition"
	kafkaOffset    = "_offset"
	kafkaTimestamp = "_timestamp"
	kafkaDeleted   = "_deleted"
)

// Kafka is a source reading one Kafka topic. Offsets are Kafka's: a
// partition's offset range [start, end) reads the records whose offsets
// are in it (offsets holding no data record, such as transaction
// markers, read as nothing). Offsets belong to Sluice's checkpoint: the
// source is stateless and commits nothing to the brokers.
//
// Columns named _key (TEXT), _partition (INT), _offset (BIGINT),
// _timestamp (TIMESTAMP) and, with Tombstones, _deleted (BOOLEAN) are
// filled from each record; the others are decoded from its JSON value by
// name. A record that cannot be decoded is a BadRecord and not a row.
//
// Errors talking to the brokers are *UnavailableError (08006): the
// stream retries them. Reading offsets retention deleted is the
// OffsetsDeletedError of the Source contract.
type Kafka struct {
	name   string
	opts   KafkaOptions
	schema *arrow.Schema
	// pseudo[i] names the metadata column i is filled from ("" for a
	// value column); fields are the value columns, at columns valueCols.
	pseudo    []string
	fields    []arrow.Field
	widths    []int // VARCHAR(n) widths of the value columns (0: none)
	valueCols []int
	client    *kafka.Client
	transport *kafka.Transport

	mu     sync.Mutex
	closed bool
}

var (
	_ Source          = (*Kafka)(nil)
	_ BadRecordReader = (*Kafka)(nil)
	_ Truncatable     = (*Kafka)(nil)
)

// NewKafka returns a source reading opts.Topic; name names it in errors.
// It does not contact the brokers: a broker that is down shows up as
// retried errors of Latest and Read, not as a failed CREATE.
func NewKafka(name string, cols []Column, opts KafkaOptions) (*Kafka, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = MaxKafkaFetchBytes
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	schema, err := schemaOf(cols)
	if err != nil {
		return nil, err
	}
	k := &Kafka{name: name, opts: opts, schema: schema, pseudo: make([]string, len(cols))}
	for i, c := range cols {
		want := arrow.DataType(nil)
		switch c.Name {
		case kafkaKey:
			want = arrow.BinaryTypes.String
		case kafkaPartition:
			want = arrow.PrimitiveTypes.Int32
		case kafkaOffset:
			want = arrow.PrimitiveTypes.Int64
		case kafkaTimestamp:
			want = &arrow.TimestampType{Unit: arrow.Microsecond}
		case kafkaDeleted:
			if opts.Tombstones {
				want = arrow.FixedWidthTypes.Boolean
			}
		}
		if want == nil {
			k.fields = append(k.fields, schema.Field(i))
			k.widths = append(k.widths, c.Type.Width)
			k.valueCols = append(k.valueCols, i)
			continue
		}
		if !arrow.TypeEqual(schema.Field(i).Type, want) {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "source %s: column %q is filled from the record's metadata and must be of Arrow type %s, not %s",
				name, c.Name, want, schema.Field(i).Type)
		}
		k.pseudo[i] = c.Name
	}
	if _, err := k.decoder(); err != nil {
		return nil, err
	}
	// The transport caches the topic's metadata for up to a second: new
	// partitions, and a broker that came back, are seen that soon.
	k.transport = &kafka.Transport{DialTimeout: opts.Timeout, IdleTimeout: 30 * time.Second, ClientID: "sluice",
		MetadataTTL: time.Second, MetadataTopics: []string{opts.Topic}}
	k.client = &kafka.Client{Addr: kafka.TCP(opts.Brokers...), Timeout: opts.Timeout, Transport: k.transport}
	return k, nil
}

// decoder returns a decoder of the value columns; a VARCHAR(n) value
// longer than n is a bad record.
func (k *Kafka) decoder() (*JSONDecoder, error) {
	d, err := NewJSONDecoder(k.fields)
	if err != nil {
		return nil, err
	}
	for i, w := range k.widths {
		d.SetTextWidth(i, w)
	}
	return d, nil
}

// MayTruncate implements Truncatable: a topic may be deleted and created
// again.
func (k *Kafka) MayTruncate() bool { return true }

// Options returns the source's options (the stream uses DeadLetterTopic).
func (k *Kafka) Options() KafkaOptions { return k.opts }

// Schema implements Source.
func (k *Kafka) Schema() *arrow.Schema { return k.schema }

// Latest implements Source: the high watermark of every partition. A
// topic that does not exist yet has no partitions.
func (k *Kafka) Latest(ctx context.Context) (Offsets, error) {
	return k.listOffsets(ctx, kafka.LastOffset)
}

// Earliest implements Source: the log start offset of every partition.
func (k *Kafka) Earliest(ctx context.Context) (Offsets, error) {
	return k.listOffsets(ctx, kafka.FirstOffset)
}

// Partitions returns the topic's partitions (none when it does not exist).
func (k *Kafka) Partitions(ctx context.Context) ([]int32, error) {
	if err := k.checkOpen(); err != nil {
		return nil, err
	}
	md, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{k.opts.Topic}})
	if err != nil {
		return nil, k.unavailable("read the metadata of topic "+k.opts.Topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != k.opts.Topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return nil, nil
			}
			return nil, k.unavailable("read the metadata of topic "+k.opts.Topic, t.Error)
		}
		parts := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			parts = append(parts, int32(p.ID))
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		return parts, nil
	}
	return nil, nil
}

func (k *Kafka) listOffsets(ctx context.Context, which int64) (Offsets, error) {
	parts, err := k.Partitions(ctx)
	if err != nil || len(parts) == 0 {
		return Offsets{}, err
	}
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = kafka.OffsetRequest{Partition: int(p), Timestamp: which}
	}
	res, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{k.opts.Topic: reqs}})
	if err != nil {
		return nil, k.unavailable("list the offsets of topic "+k.opts.Topic, err)
	}
	out := make(Offsets, len(parts))
	for _, po := range res.Topics[k.opts.Topic] {
		if po.Error != nil {
			return nil, k.unavailable(fmt.Sprintf("list the offsets of topic %s partition %d", k.opts.Topic, po.Partition), po.Error)
		}
		if which == kafka.FirstOffset {
			out[int32(po.Partition)] = po.FirstOffset
		} else {
			out[int32(po.Partition)] = po.LastOffset
		}
	}
	for _, p := range parts {
		if _, ok := out[p]; !ok {
			return nil, k.unavailable(fmt.Sprintf("list the offsets of topic %s", k.opts.Topic), fmt.Errorf("no answer for partition %d", p))
		}
	}
	return out, nil
}

// CommitGroup copies offsets (the next offset to read, per partition) to
// the consumer group GroupID, as a consumer that is not a group member
// commits them. It does nothing without a GroupID.
func (k *Kafka) CommitGroup(ctx context.Context, offs Offsets) error {
	if k.opts.GroupID == "" || len(offs) == 0 {
		return nil
	}
	commits := make([]kafka.OffsetCommit, 0, len(offs))
	for p, o := range offs {
		commits = append(commits, kafka.OffsetCommit{Partition: int(p), Offset: o})
	}
	res, err := k.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: k.opts.GroupID, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{k.opts.Topic: commits}})
	if err != nil {
		return k.unavailable("commit offsets to group "+k.opts.GroupID, err)
	}
	for _, p := range res.Topics[k.opts.Topic] {
		if p.Error != nil {
			return k.unavailable(fmt.Sprintf("commit offsets to group %s (partition %d)", k.opts.GroupID, p.Partition), p.Error)
		}
	}
	return nil
}

// Read implements Source: ReadWithBad without the bad records.
func (k *Kafka) Read(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, error) {
	recs, _, err := k.ReadWithBad(ctx, mem, start, end, maxRows)
	return recs, err
}

// ReadWithBad implements BadRecordReader. Partitions are fetched one
// after another, each in requests of at most MaxBytes.
func (k *Kafka) ReadWithBad(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) (recs []arrow.Record, bad []BadRecord, err error) {
	if err := k.checkOpen(); err != nil {
		return nil, nil, err
	}
	if maxRows <= 0 {
		return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "source %s: maxRows must be positive, got %d", k.name, maxRows)
	}
	parts := make([]int32, 0, len(end))
	for p, e := range end {
		s, ok := start[p]
		if !ok {
			return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition %d: no start offset for end offset %d", k.name, p, e)
		}
		if s < 0 || s > e {
			return nil, nil, sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition %d: invalid offset range [%d, %d)", k.name, p, s, e)
		}
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	// Partitions are fetched and decoded concurrently (a few at a time),
	// each into its own records; the results keep partition order.
	readers := make([]*kafkaReader, len(parts))
	errs := make([]error, len(parts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, kafkaReadParallelism)
	var wg sync.WaitGroup
	for i, p := range parts {
		if start[p] == end[p] {
			continue
		}
		r := &kafkaReader{k: k, mem: mem, maxRows: maxRows}
		readers[i] = r
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if r.dec, errs[i] = k.decoder(); errs[i] != nil {
				return
			}
			if errs[i] = r.readPartition(ctx, p, start[p], end[p]); errs[i] != nil {
				cancel() // the read fails: the other partitions need not finish
			}
			r.flush()
			r.release()
		}()
	}
	wg.Wait()
	for i, r := range readers {
		if r == nil {
			continue
		}
		// The error that failed the read, not a sibling's cancellation.
		if e := errs[i]; e != nil && (err == nil || errors.Is(err, context.Canceled) && !errors.Is(e, context.Canceled)) {
			err = e
		}
		recs = append(recs, r.out...)
		bad = append(bad, r.bad...)
	}
	if err != nil {
		releaseAll(recs)
		return nil, nil, err
	}
	return recs, bad, nil
}

// kafkaReadParallelism bounds the partitions one Read fetches at once.
const kafkaReadParallelism = 4

// kafkaReader is one ReadWithBad call's decoding state.
type kafkaReader struct {
	k       *Kafka
	mem     memory.Allocator
	maxRows int
	dec     *JSONDecoder
	rb      *array.RecordBuilder
	bs      []array.Builder // the value columns' builders
	rows    int
	key     []byte
	val     []byte
	hexKey  []byte
	out     []arrow.Record
	bad     []BadRecord
}

func (r *kafkaReader) release() {
	if r.rb != nil {
		r.rb.Release()
		r.rb = nil
	}
}

// flush turns the rows built so far into a record.
func (r *kafkaReader) flush() {
	if r.rows == 0 {
		return
	}
	r.out = append(r.out, r.rb.NewRecord())
	r.rows = 0
}

func (r *kafkaReader) builders() {
	if r.rb != nil {
		return
	}
	r.rb = array.NewRecordBuilder(r.mem, r.k.schema)
	r.bs = make([]array.Builder, len(r.k.valueCols))
	for i, c := range r.k.valueCols {
		r.bs[i] = r.rb.Field(c)
	}
}

// readPartition reads [s, e) of partition p.
func (r *kafkaReader) readPartition(ctx context.Context, p int32, s, e int64) error {
	k := r.k
	off := s
	for off < e {
		res, err := k.client.Fetch(ctx, &kafka.FetchRequest{
			Topic: k.opts.Topic, Partition: int(p), Offset: off,
			MinBytes: 1, MaxBytes: int64(k.opts.MaxBytes), MaxWait: time.Second,
		})
		if err != nil {
			return k.unavailable(fmt.Sprintf("fetch topic %s partition %d at offset %d", k.opts.Topic, p, off), err)
		}
		if res.Error != nil {
			if errors.Is(res.Error, kafka.OffsetOutOfRange) {
				start := res.LogStartOffset
				if start < 0 { // brokers before fetch v5 do not say
					if earliest, err := k.Earliest(ctx); err == nil {
						start = earliest[p]
					}
				}
				if start > off {
					return errOffsetsDeleted(k.name, p, off, e, start)
				}
				return sqlerr.New(sqlerr.InvalidParameterValue, "source %s partition %d: offset %d is beyond the end of topic %s (high watermark %d)",
					k.name, p, off, k.opts.Topic, res.HighWatermark)
			}
			return k.unavailable(fmt.Sprintf("fetch topic %s partition %d at offset %d", k.opts.Topic, p, off), res.Error)
		}
		// next is past every offset the response showed: its records
		// (also those below off) and its control batches (transaction
		// markers, which ReadRecord skips).
		before, next := off, off
		for {
			rec, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return k.unavailable(fmt.Sprintf("read topic %s partition %d", k.opts.Topic, p), err)
			}
			next = max(next, rec.Offset+1)
			if rec.Offset < off || rec.Offset >= e {
				closeBytes(rec)
				if rec.Offset >= e {
					break
				}
				continue
			}
			off = rec.Offset + 1
			if err := r.add(p, rec); err != nil {
				return err
			}
		}
		next = max(next, afterControlBatches(res.Records))
		switch {
		case off >= e || off > before:
			// Done, or records read: fetch from where they ended.
		case next > off:
			off = next
		case res.HighWatermark <= off:
			// A leader that has not caught up yet (after an election)
			// answers with an older end: try again later. (A partition
			// that really went back is the stream's data-loss check.)
			return k.unavailable(fmt.Sprintf("fetch topic %s partition %d at offset %d", k.opts.Topic, p, off),
				fmt.Errorf("the partition ends at offset %d, before the offset %d asked for", res.HighWatermark, off))
		default:
			// An offset that holds no record this response shows (a
			// compacted batch's tail): step over it.
			off++
		}
	}
	return nil
}

// afterControlBatches returns the offset after the last control batch
// (transaction marker) of a fetch response, or -1 without one.
func afterControlBatches(rr kafka.RecordReader) int64 {
	end := int64(-1)
	switch r := rr.(type) {
	case *protocol.ControlBatch:
		end = r.BaseOffset + 1
	case *protocol.RecordStream:
		for _, b := range r.Records {
			if c, ok := b.(*protocol.ControlBatch); ok {
				end = max(end, c.BaseOffset+1)
			}
		}
	}
	return end
}

// add decodes one record into the next row, or into a BadRecord.
func (r *kafkaReader) add(p int32, rec *kafka.Record) error {
	var hasKey, hasVal bool
	var err error
	if r.key, hasKey, err = readBytes(r.key[:0], rec.Key); err != nil {
		return r.k.unavailable("read a record key", err)
	}
	if r.val, hasVal, err = readBytes(r.val[:0], rec.Value); err != nil {
		return r.k.unavailable("read a record value", err)
	}
	r.builders()
	deleted := false
	switch {
	case !hasVal && r.k.opts.Tombstones:
		deleted = true
		for _, b := range r.bs {
			b.AppendNull()
		}
	case !hasVal:
		r.badRecord(p, rec.Offset, "the record has no value (a tombstone)", hasKey)
		return nil
	default:
		if err := r.dec.Decode(r.val, r.bs); err != nil {
			r.badRecord(p, rec.Offset, err.Error(), hasKey)
			return nil
		}
	}
	for i, name := range r.k.pseudo {
		b := r.rb.Field(i)
		switch name {
		case "":
		case kafkaKey:
			switch {
			case hasKey && utf8.Valid(r.key):
				b.(*array.StringBuilder).BinaryBuilder.Append(r.key)
			case hasKey:
				// A binary key (Avro, a UUID's bytes) as PostgreSQL
				// prints bytea: \x and hex digits.
				r.hexKey = append(append(r.hexKey[:0], `\x`...), make([]byte, hex.EncodedLen(len(r.key)))...)
				hex.Encode(r.hexKey[2:], r.key)
				b.(*array.StringBuilder).BinaryBuilder.Append(r.hexKey)
			default:
				b.AppendNull()
			}
		case kafkaPartition:
			b.(*array.Int32Builder).Append(p)
		case kafkaOffset:
			b.(*array.Int64Builder).Append(rec.Offset)
		case kafkaTimestamp:
			if rec.Time.IsZero() || rec.Time.UnixMilli() < 0 { // -1: no timestamp
				b.AppendNull()
			} else {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(rec.Time.UnixMicro()))
			}
		case kafkaDeleted:
			b.(*array.BooleanBuilder).Append(deleted)
		}
	}
	r.rows++
	if r.rows >= r.maxRows {
		r.flush()
	}
	return nil
}

// badRecord keeps a copy of the record that failed.
func (r *kafkaReader) badRecord(p int32, off int64, msg string, hasKey bool) {
	b := BadRecord{Partition: p, Offset: off, Err: msg, Value: append([]byte(nil), r.val...)}
	if hasKey {
		b.Key = append([]byte{}, r.key...)
	}
	r.bad = append(r.bad, b)
}

// readBytes appends the content of b to dst; ok is false for a null.
func readBytes(dst []byte, b kafka.Bytes) (out []byte, ok bool, err error) {
	if b == nil {
		return dst, false, nil
	}
	defer b.Close()
	n := b.Len()
	if cap(dst) < n {
		dst = make([]byte, n, max(n, 2*cap(dst)))
	}
	dst = dst[:n]
	if _, err := io.ReadFull(b, dst); err != nil {
		return dst[:0], false, err
	}
	return dst, true, nil
}

func closeBytes(rec *kafka.Record) {
	if rec.Key != nil {
		rec.Key.Close()
	}
	if rec.Value != nil {
		rec.Value.Close()
	}
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func (k *Kafka) checkOpen() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "source %s is closed", k.name)
	}
	return nil
}

// unavailable describes a broker error: most are worth retrying (a
// broker away, a leader moving, a topic being created); kafka's errors
// that say retrying cannot help (authorization, a corrupt record, an
// unsupported version) fail the stream.
func (k *Kafka) unavailable(what string, err error) error {
	return ClassifyKafkaError(fmt.Sprintf("source %s: %s (brokers %s)", k.name, what, strings.Join(k.opts.Brokers, ",")), err)
}

// ClassifyKafkaError returns err as an *UnavailableError (08006) when a
// retry may cure it: network and context errors, kafka's retriable error
// codes, a topic or partition not known yet, and kafka-go's -1 (Unknown)
// for a connection lost mid-request; as a plain error otherwise (58030 io_error: authorization failures, corrupt messages,
// messages too large, unsupported versions).
func ClassifyKafkaError(what string, err error) error {
	var ke kafka.Error
	if errors.As(err, &ke) && !ke.Temporary() && ke != kafka.UnknownTopicOrPartition && ke != kafka.LeaderNotAvailable &&
		ke != kafka.NotLeaderForPartition && ke != kafka.BrokerNotAvailable && ke != kafka.GroupCoordinatorNotAvailable &&
		ke != kafka.NotCoordinatorForGroup && ke != kafka.GroupLoadInProgress &&
		// kafka-go reports a connection lost in the middle of a split
		// request (ListOffsets over several partitions) as code -1.
		ke != kafka.Unknown {
		return sqlerr.Wrap(sqlerr.IOError, fmt.Errorf("%s: %w", what, err))
	}
	return Unavailable(what, err)
}

// Close implements Source.
func (k *Kafka) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		k.closed = true
		k.transport.CloseIdleConnections()
	}
	return nil
}
