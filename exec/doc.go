// Package exec runs Sluice's plans: it turns plan nodes (package
// planner/plan) into vectorized operators over Arrow records, and runs
// whole statements against the catalog.
//
// # Layers
//
// Bottom-up, each layer using only the ones below it:
//
//   - exec/expr (its own package) compiles and evaluates scalar
//     expressions over whole records: Program.Eval returns a new array,
//     Program.Select the rows where a predicate is true.
//   - kernels.go and codec.go are the array-level toolkit: typed views of
//     Arrow buffers, array construction, take (gather rows by index,
//     index -1 gives NULL), and the codecs that read a class of values
//     (integers, floats, strings, intervals) into a Go slice and compare,
//     hash and write them back. Arrow's experimental compute package is
//     not used; allocators are always passed explicitly.
//   - hashtable.go maps distinct key tuples to dense entry numbers,
//     columnar (one typed key slice per column) and batch-at-a-time. It
//     serves GROUP BY, DISTINCT, DISTINCT aggregates and the hash join.
//   - The operators, one file each: scan and values (scan.go), filter and
//     project (filter.go), limit and union all (limit.go), distinct, sort,
//     hash aggregate (agg.go) and hash join (join.go); event-time window
//     assignment, TUMBLE and HOP (window.go).
//   - streamagg.go: StreamAgg, the aggregate state a stream keeps across
//     micro-batches (one sub-state per window, dropped whole when the
//     watermark finalises the window; changed groups emitted per batch);
//     streamagg_snapshot.go: its state as Arrow records and back, for
//     checkpoints.
//   - lookup.go: LookupCache, a stream's lookup-join build sides kept per
//     table version.
//   - records.go: NewRecordsOperator, the leaf that feeds a batch's
//     records to a plan (Env.Inputs). Package stream runs streams on these.
//   - build.go: Build, one type switch from plan node to operator.
//   - run.go: Run, one type switch over statements, and Result.
//
// # The operator contract
//
// An Operator has three methods:
//
//	Next(ctx) (arrow.Record, error)
//	Close() error
//	Schema() *arrow.Schema
//
// Next returns the next record, or nil when the operator is done. The
// record is borrowed from the operator: it is valid until the next call
// to Next or Close, and a consumer that keeps it longer calls Retain. An
// operator therefore releases what it produced at the start of its next
// Next and in Close (outRecord does this bookkeeping), and may hand on its
// input's record unchanged (a filter whose rows all pass, a limit that
// takes a whole record) after retaining it. Records never have zero rows,
// and have at most 64Ki rows (maxBatchRows). Every record's columns have
// exactly the Arrow types of the plan node's columns (sqltypes.Type.Arrow);
// all fields are nullable.
//
// Close releases everything the operator holds and closes its inputs; it
// is safe to call twice, and the consumer calls it also after an error.
// The context is passed to every Next and never stored. Operators start
// no goroutines.
//
// Streaming operators (scan, values, filter, project, limit, union all,
// distinct) produce output as their input arrives. Blocking operators
// drain their input on the first Next: sort and hash aggregate drain it
// all, the hash join drains its right (build) side and then streams the
// left (probe) side.
//
// Memory: every buffer the operators create comes from Env.Mem and is
// released exactly once; tests run on memory.NewCheckedAllocator and
// check that nothing is outstanding. Table data comes from the catalog's
// Go-allocated, immutable snapshots and is scanned without copying.
//
// # Statements
//
// Run executes one plan.Statement with an Env (allocator, catalog,
// parameter values). Build pins each table's snapshot in the Env the first
// time it meets the table, so a statement reads every table at one
// version (a self-join sees one version; INSERT INTO t SELECT ... FROM t
// reads t as it was); a Scan AS OF VERSION n reads the retained version
// n instead (catalog.Table.SnapshotAt), once per table and version, so
// t AS OF VERSION 1 joined with t AS OF VERSION 2 reads both. A query's Result streams records and counts them
// for its "SELECT n" tag. INSERT, UPDATE and DELETE run entirely inside
// Run, each as one catalog Table.Write, so a statement is atomic: a
// duplicate key in its third row leaves no row of it behind. UPDATE and
// DELETE evaluate their filter over whole records of the table's current
// version; UPDATE evaluates its assignments over the matching rows
// gathered into one record, then stages a delete and an insert per row.
// DDL goes straight to the catalog. SET, SHOW and transaction control are
// the session's business and are refused here.
//
// Errors are returned, never panicked, and carry a SQLSTATE (package
// sqlerr) where they are born: 22003 for an integer sum that overflows,
// 2201W/2201X for a negative LIMIT/OFFSET, 57014 for a cancelled
// context, XX000 for a mismatch between plan and executor.
package exec
