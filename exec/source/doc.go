// Package source holds Sluice's stream sources: append-only, replayable
// inputs with a schema, read by offset ranges into Arrow records.
//
// # The contract
//
// Every source implements Source. Positions are Offsets, a map from
// partition to offset (a row number). The micro-batch runner plans batch N
// as [start, end) per partition, with end taken from Latest and bounded by
// max_rows_per_batch; it writes the plan to its checkpoint and only then
// calls Read. Replaying batch N after a crash reads the same range and
// gets the same rows, so a source never changes rows below Latest. Where
// the runner starts (start_offset = 'earliest' | 'latest') is the
// runner's business: sources only report Earliest and Latest.
//
// When retention has deleted part of a range, Read fails with SQLSTATE
// 22023 (invalid_parameter_value) wrapping an *OffsetsDeletedError that
// names the source, partition and offsets: a data-loss guard can match it
// with errors.As and let the user choose to skip to Earliest. Read returns
// records of at most maxRows rows in partition then offset order; the
// caller releases them. Option parsers (ParseLogOptions,
// ParseDatagenOptions) take a WITH list as strings: an unknown key is
// 42601, a bad value 22023, both naming the key. Keys every connector
// shares (IsCommonOption) are left to the planner.
//
// # connector = 'log' (log.go)
//
// Log is Sluice's own durable log: one partition, a directory of segment
// files named by the offset of their first row (00000000000000000000.log,
// ...). Each Append (Go values, row by row) or AppendRecords (Arrow
// records, as a stream's log sink writes them; their column types must be
// the log's, else 42804) is one frame:
//
//	uint32 body length | uint32 CRC-32C | int64 first offset | uint32 rows | int64 append time | body
//
// The body is an Arrow IPC stream of one record batch. AppendRecordsTagged
// also stores an int64 tag: bit 31 of the rows word (row counts stay
// below it) marks the frame as tagged, and the body then starts with the
// tag, under the same length and CRC. A stream's log sink tags each
// append with its batch id, and after a crash LastTag (the tag of the
// newest tagged frame) tells it whether the batch already reached the
// log, so it is not appended twice. Frames written before tags existed
// are untagged frames, and untagged frames are written as they always
// were, so existing logs open unchanged. Frames are encoded
// column-wise outside any lock, so Read decodes them straight back into
// Arrow arrays (memcpy, no per-row work), and the format is Arrow's, with
// its own validation, rather than a private row codec. The cost is the
// schema message repeated in every frame (a few hundred bytes), which
// matters only for appends of a handful of rows.
//
// With format = 'json' (LogOptions.Format) the log is a local Kafka
// topic of JSON messages: a frame's record has one binary column holding
// one raw message per row, so offsets stay message numbers and framing,
// CRCs, tags, torn-tail recovery and retention are unchanged. AppendJSON
// stores messages as given, valid or not; Append and AppendRecords encode
// their rows with JSONEncoder. Read decodes the messages with JSONDecoder
// into the declared columns and leaves out those that do not decode;
// ReadWithBad (BadRecordReader) also returns them, with their offsets and
// errors. The format is not stored in the log, only in the source's
// options: a log opened with the other format fails on Read (42804, the
// frame's schema tells) rather than misreading its frames.
//
// Appends are atomic: all values are converted before anything is
// written; the frame goes down in one write, is fsynced, and only then
// enters the in-memory index readers use, so a reader never sees a row
// that is not durable. Appenders are serialised by a mutex held across the
// fsync (no group commit yet); readers take a second, short mutex to copy
// the index and never wait for an fsync. A failed fsync (or a failed
// write that cannot be cut back) poisons the log: every later append
// fails.
//
// A segment rolls when it has reached LogOptions.SegmentBytes. The index
// keeps, per segment, the first offset, row count, position and size of
// every frame; Read binary-searches it and reads only the frames it needs
// (re-checking each CRC). OpenLog rebuilds the index: it reads only frame
// headers (and tags) of sealed segments, and verifies every CRC of the
// last one, and that of the frame LastTag reports wherever it is. A
// damaged frame in the last segment (short header, length past the end of
// the file, or a checksum mismatch) with no valid frame anywhere after it
// is a torn append that was never acknowledged: it is truncated away. Any
// other damage, or a gap between segments, is an error (XX001): cutting
// it off would lose acknowledged rows.
//
// Retention (by rows behind Latest, or by age of a segment's newest row,
// on the LogOptions.Now clock) deletes whole segments, oldest first, never
// the active one nor the newest one with rows (they differ only while the
// active one is empty); it runs after every append and on EnforceRetention.
// Earliest is the first offset of the oldest remaining segment. A segment
// whose file cannot be removed blocks the deletion of newer ones until it
// is, so the files on disk never have a gap.
//
// # JSON (json.go)
//
// JSONDecoder decodes one JSON object per message into a row of Arrow
// builders, as Kafka, Spark or ksqlDB users expect (keys matched exactly,
// then ignoring case; unknown keys skipped; absent or null is NULL); its
// doc comment lists the rules per type. It is a hand-written scanner in
// three passes: validate the whole message and record each column's
// value span in per-decoder slots; convert the spans; append. Only the
// last pass touches the builders and it cannot fail, so a bad message
// appends nothing. It allocates nothing per message once its scratch has
// grown. JSONEncoder writes rows as JSON objects the decoder reads back to
// the same values (RFC 3339 UTC timestamps, shortest floats, NaN and the
// infinities as strings).
//
// # connector = 'datagen' (datagen.go)
//
// Datagen makes every value as a pure function of (seed, column, offset):
// random values come from splitmix64 over seed, column index and offset,
// never from a shared generator, so any range can be generated again,
// whole or in parts. Generators write column at a time into typed Arrow
// builders. Latest follows the rate from the source's creation time (the
// clock is injectable), or moves UnlimitedStep rows per call without a
// rate, and stops at MaxRows. A stream restarted ahead of that count
// calls ResumeFrom (Resumer, also Nexmark's): the rate counts on from
// the stream's offset.
//
// # connector = 'nexmark' (nexmark.go)
//
// Nexmark is the Nexmark benchmark's generator: the rows of one of its
// tables (bid, auction, person) with the reference generator's mix of
// events (person 1 : auction 3 : bid 46), ids, hot auctions, bidders,
// sellers and channels, prices and padding. Offsets are row numbers of
// the table; row k is event eventOf(k) of one event stream the three
// tables share, whose date_time advances by a fixed delay per event.
// Every value is a pure function of (seed, event number): each random
// choice is its own splitmix64 draw, and random text is cut from a pool
// made from the seed, so columns are made one at a time, straight into
// Arrow buffers, and a Read is split into records generated on several
// goroutines.
//
// # connector = 'kafka' (kafka.go)
//
// Kafka reads one topic with kafka-go's Client (Metadata, ListOffsets,
// Fetch of at most MaxKafkaFetchBytes), partitions concurrently, each
// decoded by its own JSONDecoder into its own records; Offsets are
// Kafka's. Columns named _key, _partition, _offset, _timestamp (and
// _deleted with Tombstones, for changelog-fed tables) are filled from
// the record's metadata. Records that do not decode are BadRecords
// (BadRecordReader), never rows. Reads go past transaction markers and
// compacted gaps. Broker errors a retry may cure are *UnavailableError
// (08006, ClassifyKafkaError), which streams retry; offsets below the
// log start are OffsetsDeletedError; a Kafka partition may end before
// an offset it once had (Truncatable), which streams treat as data
// loss. The source commits nothing to the brokers except, with
// group_id, a copy of a stream's committed offsets (CommitGroup).
package source
