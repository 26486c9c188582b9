// Package checkpoint keeps one stream's progress durable, so that a
// restart (or kill -9 at any moment) resumes it exactly: which input each
// batch read, which batches reached the sink, the operator state, and the
// config-table rows a replayed batch must join.
//
// # Protocol
//
// A stream owns one Dir (Open). Its loop, per batch N:
//
//  1. plans N: end offsets per source partition, the config-table versions
//     it pins, the watermark; saves each pinned version it has not saved
//     yet (HasTable, WriteTable); then WritePlan, which is durable before
//     it returns and before N reads anything;
//  2. runs N and writes its output to the sink;
//  3. Commit(N), once the sink has N;
//  4. every K batches, WriteState(N, ...) with the state as of the end of
//     N; this also compacts the logs and drops table copies no retained
//     plan needs.
//
// On start, LoadState gives the newest valid snapshot S (or -1). The loop
// replays batches S+1 .. LastCommitted() with PlanOf(b) and LoadTable for
// the versions each pins, feeding the state but not the sink (the sink has
// them: table and log sinks are idempotent by batch id). If LastPlan() is
// uncommitted (its Batch is LastCommitted()+1), it is run again with exactly
// that plan, and sent to the sink; calling WritePlan with it again is
// allowed and writes nothing, while a different plan for it is refused
// (ErrPlanConflict). Then planning continues with LastPlan().Batch+1.
//
// Batch numbers start at 0 and are consecutive: batch N+1 is planned only
// after N is committed, and only the last planned batch can be committed
// (ErrBatchOrder otherwise). Hence after any crash the last planned batch
// is either committed or the one to re-run; Open checks that the logs agree
// with this.
//
// # Files
//
//	LOCK                         flock'ed while a Dir has the directory open
//	offsets.log                  the plans (the offsets log), one record each
//	commits.log                  the committed batches, one record each
//	state-<batch>.arrow          state snapshot as of the end of <batch>
//	table-<name>-<version>.arrow a saved config-table version
//	META                         Meta: query fingerprint, operators, schema
//	*.tmp                        an interrupted write; Open deletes them
//	*.corrupt                    a damaged snapshot LoadState set aside
//
// Both logs are "SLCOFF01" or "SLCCOM01" followed by frames (log.go):
//
//	uint32 n    length of body, little-endian, 1 <= n <= 64 MiB
//	uint32 crc  CRC-32C (Castagnoli) of the 4 length bytes and body
//	body        JSON: a plan {"batch", "start", "end", "versions",
//	            "watermark" (absent without one), "planned_at_unix_nano"}
//	            or a commit {"batch", "committed_at_unix_nano"}
//
// A record is appended with one write and one fsync, so a crash can tear
// only the last one. Open scans each log and stops at the first frame that
// is short, has a length that is 0, over the limit or past the end of the
// file, or fails its checksum. If no valid frame starts at any later byte,
// that is a torn tail: the file is truncated there (Recovery reports the
// bytes cut) and appends continue after the last good record. If a valid
// frame follows, the damage is not a torn write: Open fails with SQLSTATE
// XX001, as it does for a frame that passes its checksum but does not
// decode, for batches that are not consecutive, or for logs that disagree
// (a commit of a batch never planned, a planned batch whose predecessor is
// not committed).
//
// A snapshot file (state-* and table-*, arrowfile.go) is an Arrow IPC file
// followed by a 32-byte trailer: its length, the batch or version it is
// named for, the CRC-32C of the IPC bytes, the trailer's own CRC-32C, and
// "SLCSNAP1". META (meta.go) is "SLCMETA1", a CRC-32C and JSON. These files
// are written as <name>.tmp, fsynced, renamed into place, and the directory
// is fsynced: they appear whole or not at all.
//
// # Retention
//
// WriteState keeps the two newest snapshots: if the newest fails its checks
// when loaded, LoadState sets it aside and falls back to the older one.
// Compact (run by WriteState) therefore keeps the plans and commits of the
// batches after the older snapshot, which a replay from it needs, and
// always the last plan and the last commit; it rewrites each log to a
// temporary file, fsyncs and renames it, so a crash leaves the old log or
// the new one. With no snapshot nothing is dropped: a stateless stream may
// save an empty state to let its logs be compacted. Table copies are
// deleted once superseded: a version no retained plan pins, older than the
// newest version a retained plan pins (DropTablesBefore deletes others on
// request).
//
// # Errors
//
// Errors carry a SQLSTATE (catalog/sqlerr): XX001 for damaged data, 58030
// for I/O failures, 55000 for calls that break the batch rules, 57014 for a
// cancelled context. After a failed log append the Dir refuses further
// writes: what reached the disk is known only after Close and Open.
//
// # Source files
//
//	dir.go       Dir, Open, recovery, plans and commits, Close, Remove
//	plan.go      Plan and the log record encodings
//	log.go       log framing, torn-tail scan, append, rewrite
//	arrowfile.go snapshot files: Arrow IPC with a checksummed trailer
//	state.go     state snapshots and Compact
//	tables.go    saved config-table versions
//	meta.go      Meta
//	fs.go        atomic file replacement, directory fsync, errors
//	lock_*.go    the directory lock
//
// The package imports nothing of Sluice's but catalog/sqlerr.
package checkpoint
