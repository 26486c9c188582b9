package planner

import (
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// System tables are read-only views of the server's state. The binder
// reads them as plan.Input leaves named after the table; whoever runs the
// plan (the server) supplies their rows, in these columns.
var systemTables = map[string][]plan.Column{
	"sluice_progress": {
		{Name: "stream", Type: sqltypes.Text},
		{Name: "batch_id", Type: sqltypes.Int64},
		{Name: "started_at", Type: sqltypes.Timestamp},
		{Name: "duration_ms", Type: sqltypes.Float64},
		{Name: "plan_ms", Type: sqltypes.Float64},
		{Name: "read_ms", Type: sqltypes.Float64},
		{Name: "execute_ms", Type: sqltypes.Float64},
		{Name: "sink_ms", Type: sqltypes.Float64},
		{Name: "commit_ms", Type: sqltypes.Float64},
		{Name: "input_rows", Type: sqltypes.Int64},
		{Name: "output_rows", Type: sqltypes.Int64},
		{Name: "input_rows_per_sec", Type: sqltypes.Float64},
		{Name: "processed_rows_per_sec", Type: sqltypes.Float64},
		{Name: "start_offsets", Type: sqltypes.Text},
		{Name: "end_offsets", Type: sqltypes.Text},
		{Name: "watermark", Type: sqltypes.Timestamp},
		{Name: "late_rows", Type: sqltypes.Int64},
		{Name: "state_rows", Type: sqltypes.Int64},
		{Name: "config_versions", Type: sqltypes.Text},
		{Name: "skipped_offsets", Type: sqltypes.Text},
		{Name: "bad_rows", Type: sqltypes.Int64},
	},
	"sluice_streams": {
		{Name: "name", Type: sqltypes.Text},
		{Name: "status", Type: sqltypes.Text},
		{Name: "trigger", Type: sqltypes.Text},
		{Name: "sink", Type: sqltypes.Text},
		{Name: "last_batch", Type: sqltypes.Int64},
		{Name: "last_error", Type: sqltypes.Text},
		{Name: "source", Type: sqltypes.Text},
		{Name: "output_mode", Type: sqltypes.Text},
		{Name: "watermark", Type: sqltypes.Timestamp},
		{Name: "input_rows", Type: sqltypes.Int64},
		{Name: "output_rows", Type: sqltypes.Int64},
		{Name: "late_rows", Type: sqltypes.Int64},
		{Name: "subscribers", Type: sqltypes.Int64},
		{Name: "bad_rows", Type: sqltypes.Int64},
	},
	// The first few input records of each batch that could not be decoded
	// (malformed JSON, a value of the wrong type), newest last; the
	// server keeps the last 1000.
	"sluice_errors": {
		{Name: "stream", Type: sqltypes.Text},
		{Name: "batch_id", Type: sqltypes.Int64},
		{Name: "partition", Type: sqltypes.Int32},
		{Name: "offset", Type: sqltypes.Int64},
		{Name: "error", Type: sqltypes.Text},
		{Name: "excerpt", Type: sqltypes.Text},
		{Name: "at", Type: sqltypes.Timestamp},
	},
	// One row per retained version of every table (catalog.Table.Versions):
	// the last versions up to the catalog's retention setting, and older
	// ones a running stream batch has pinned.
	"sluice_table_versions": {
		{Name: "table_name", Type: sqltypes.Text},
		{Name: "version", Type: sqltypes.Int64},
		{Name: "committed_at", Type: sqltypes.Timestamp},
		{Name: "row_count", Type: sqltypes.Int64},
		{Name: "pinned", Type: sqltypes.Bool},
	},
	"sluice_sources": {
		{Name: "name", Type: sqltypes.Text},
		{Name: "connector", Type: sqltypes.Text},
		{Name: "columns", Type: sqltypes.Text},
		{Name: "event_time", Type: sqltypes.Text},
		{Name: "watermark_delay", Type: sqltypes.Text},
		{Name: "earliest_offsets", Type: sqltypes.Text},
		{Name: "latest_offsets", Type: sqltypes.Text},
	},
	// One row per table fed from a changelog topic (CREATE TABLE ... WITH
	// (connector = 'kafka', ...)): where its feed is in the topic, what
	// it applied and skipped since the server started, and its error
	// while it retries or after it failed.
	"sluice_table_feeds": {
		{Name: "table_name", Type: sqltypes.Text},
		{Name: "connector", Type: sqltypes.Text},
		{Name: "topic", Type: sqltypes.Text},
		{Name: "status", Type: sqltypes.Text},
		{Name: "offsets", Type: sqltypes.Text},
		{Name: "version", Type: sqltypes.Int64},
		{Name: "upserts", Type: sqltypes.Int64},
		{Name: "deletes", Type: sqltypes.Int64},
		{Name: "bad_records", Type: sqltypes.Int64},
		{Name: "last_bad_record", Type: sqltypes.Text},
		{Name: "last_error", Type: sqltypes.Text},
		{Name: "skipped_offsets", Type: sqltypes.Text},
	},
}

// SystemTable returns the columns of a system table.
func SystemTable(name string) ([]plan.Column, bool) {
	c, ok := systemTables[name]
	return c, ok
}

// IsSystemTable reports whether name is a system table.
func IsSystemTable(name string) bool {
	_, ok := systemTables[name]
	return ok
}
