package plan

import (
	"fmt"
	"time"

	"github.com/sluice-sql/sluice/catalog"
)

// TriggerKind says when a stream runs its micro-batches.
type TriggerKind int

// The trigger kinds, as in Spark Structured Streaming.
const (
	// TriggerInterval starts a batch every Interval (0: as soon as the
	// previous one ends). A batch that overruns is followed at once;
	// missed triggers do not pile up.
	TriggerInterval TriggerKind = iota
	// TriggerOnce runs one batch over what exists, then the stream stops.
	TriggerOnce
	// TriggerAvailableNow drains what exists at start in bounded batches,
	// then the stream stops.
	TriggerAvailableNow
)

// Trigger is a stream's trigger.
type Trigger struct {
	Kind     TriggerKind
	Interval time.Duration
}

// String prints the trigger as the option is written: '1s', 'once',
// 'available_now'.
func (t Trigger) String() string {
	switch t.Kind {
	case TriggerOnce:
		return "once"
	case TriggerAvailableNow:
		return "available_now"
	}
	return FormatDuration(t.Interval)
}

// FormatDuration prints d in the shortest unit that is exact: 250ms, 5s,
// 2m, 1h, 0s.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%dus", d/time.Microsecond)
}

// OutputMode is how a stream with aggregates writes its results.
type OutputMode string

// The output modes.
const (
	// OutputAppend emits each result row once: stateless streams' rows,
	// and a window's groups once the watermark passes the window's end.
	OutputAppend OutputMode = "append"
	// OutputUpdate emits, each batch, the groups the batch changed.
	OutputUpdate OutputMode = "update"
)

// SinkKind is where a stream's results go.
type SinkKind string

// The sinks.
const (
	// SinkTable writes a table of the stream's name: appended rows for
	// stateless streams, upserts by the group key for aggregates.
	SinkTable SinkKind = "table"
	// SinkLog appends to a log source of the stream's name.
	SinkLog SinkKind = "log"
	// SinkNone keeps results only for SUBSCRIBE.
	SinkNone SinkKind = "none"
	// SinkKafka produces each output row as a JSON message to a Kafka
	// topic (at least once; see StreamOptions.SinkOptions).
	SinkKafka SinkKind = "kafka"
)

// StreamOptions are a stream's WITH options, validated.
type StreamOptions struct {
	Trigger         Trigger
	Sink            SinkKind
	MaxRowsPerBatch int
	OutputMode      OutputMode
	// FailOnDataLoss (default true) fails the stream when retention has
	// deleted offsets it has not read; false skips to the earliest offset
	// and records the gap in sluice_progress.
	FailOnDataLoss bool
	// SinkOptions are sink 'kafka''s options, keys lower-case: brokers
	// (comma-separated host:port), topic, format ('json'), key (an output
	// column whose value keys, and so partitions, each message).
	SinkOptions map[string]string
}

// CreateSource creates a source. SQL is the statement's text, kept so the
// source can be recreated on start.
type CreateSource struct {
	Def catalog.SourceDef
	SQL string
}

// CreateStream creates and starts a stream: Query runs over the records
// of each micro-batch of Source (a plan.Input leaf). Key, for a table
// sink of an aggregate, lists the output columns that form the group key
// (the sink table's primary key); nil otherwise.
type CreateStream struct {
	Name      string
	OrReplace bool
	SQL       string
	Source    string
	Query     Node
	Options   StreamOptions
	Key       []int
}

// AlterStream changes a running stream's options; nil fields are left.
type AlterStream struct {
	Name    string
	Trigger *Trigger
}

// StreamControl pauses or resumes a stream.
type StreamControl struct {
	Name  string
	Pause bool
}

// DropStream stops and removes streams (and their sink tables).
type DropStream struct {
	Names    []string
	IfExists bool
}

// DropSource removes sources no stream reads.
type DropSource struct {
	Names    []string
	IfExists bool
}

// Subscribe sends a stream's new output rows to the client as they are
// produced. Cols are the stream's output columns.
type Subscribe struct {
	Name string
	Cols []Column
}

// StatementTag implements Statement.
func (*CreateSource) StatementTag() string { return "CREATE SOURCE" }

// StatementTag implements Statement.
func (*CreateStream) StatementTag() string { return "CREATE STREAM" }

// StatementTag implements Statement.
func (*AlterStream) StatementTag() string { return "ALTER STREAM" }

// StatementTag implements Statement.
func (s *StreamControl) StatementTag() string {
	if s.Pause {
		return "PAUSE STREAM"
	}
	return "RESUME STREAM"
}

// StatementTag implements Statement.
func (*DropStream) StatementTag() string { return "DROP STREAM" }

// StatementTag implements Statement.
func (*DropSource) StatementTag() string { return "DROP SOURCE" }

// StatementTag implements Statement.
func (*Subscribe) StatementTag() string { return "SUBSCRIBE" }

var (
	_ Statement = (*CreateSource)(nil)
	_ Statement = (*CreateStream)(nil)
	_ Statement = (*AlterStream)(nil)
	_ Statement = (*StreamControl)(nil)
	_ Statement = (*DropStream)(nil)
	_ Statement = (*DropSource)(nil)
	_ Statement = (*Subscribe)(nil)
)
