// Package catalog holds Sluice's durable, versioned tables: the config
// tables streams join against, and (later) sources, streams and system
// tables.
//
// # Model
//
// A Catalog is one data directory. It holds Tables by name; CreateTable and
// DropTable change the set. A Table is a sequence of immutable Snapshots
// (versions): version 1 right after CREATE TABLE, one more per committed
// Table.Write. Snapshot is lock-free (one atomic load) and never waits for
// writers, so a stream batch pins a table's state by keeping the
// *Snapshot (and records (Table.ID, Snapshot.Version) in its plan).
//
// A table retains its recent versions (versions.go): the last
// Options.RetainVersions (64) committed ones, and any older one while it
// is pinned (Table.Pin, released when the pinning batch commits).
// Table.Versions lists them and Table.SnapshotAt reads one; a version no
// longer retained is an error with SQLSTATE 22023. The history lives in
// memory only: after a restart a table retains just its recovered latest
// version (the log holds what would rebuild more, but recovery does not).
//
// Table.Write runs one SQL statement: writers of a table are serialised,
// the callback stages Inserts and Deletes against the latest version
// through a Writer, and the catalog validates the final state (types, NOT
// NULL, VARCHAR length, primary-key uniqueness), logs it, fsyncs, and
// publishes the next version. A statement is all or nothing.
//
// A statement can also set marks (Writer.SetMark): named int64 values
// kept with every version (Snapshot.Mark), logged in the same record as
// the statement's rows, so a crash keeps both or neither. A stream's table
// sink sets "stream:<name>" to the id of the batch it writes; recovery
// reads the mark to learn whether the batch reached the table, which makes
// the sink exactly-once without a second log. Marks are carried from
// version to version (TRUNCATE keeps them) until a write overwrites them,
// and are part of what survives a restart. A statement that only sets
// marks commits a new version sharing all of the previous one's rows.
//
// # Snapshot data
//
// A snapshot's rows are Arrow records ("chunks") of at most
// Options.ChunkRows (4096) rows each, columns per the table's definition
// with types from sqltypes.Type.Arrow(). Chunks are immutable and shared
// between versions (copy-on-write): a write rebuilds only the chunks it
// changes, and in them only the columns whose values change, and copies
// only the shards of the primary-key index it touches (index.go). A
// single-row UPDATE of one column of a 100k-row table therefore copies
// one column of one chunk and a few hundred index entries, and readers
// scanning older versions are never disturbed. Row order is unspecified,
// as in SQL: an UPDATE rewrites rows in place and a DELETE moves a chunk's
// last row into the hole (apply.go has the rules). All snapshot memory comes from
// memory.NewGoAllocator and belongs to the garbage collector: readers never
// Release what Records returns (doing so is harmless: Records retains on
// their behalf), and a snapshot lives exactly as long as someone references
// it.
//
// # Durability
//
// Files in the data directory:
//
//	LOCK                     flock'ed while a Catalog has the directory open
//	MANIFEST                 the last checkpoint: table definitions, versions,
//	                         marks, table files, the first log segment to replay
//	tbl-<id>-<version>.arrow a table's rows at a checkpoint (Arrow IPC file)
//	wal-<seq>.log            write-ahead log segments
//
// Every committed statement and every DDL is one log record (walrec.go):
// a write records the deleted rows (by primary key, or by ordinal for
// tables without one), the inserted rows and the marks it sets, not the
// whole table. Records
// are framed with a length and a CRC-32C, and concurrent commits share one
// frame and one fsync (group commit, wal.go). A checkpoint (checkpoint.go)
// runs in the background when the current segment passes
// Options.CheckpointBytes or CheckpointRecords: it rotates the log, writes
// the tables that changed to new table files and atomically replaces
// MANIFEST, then deletes what the new manifest no longer needs. Open
// (recover.go) loads the manifest and table files and replays the log
// after them; a torn last frame (a crash mid-write) is cut off, while a
// damaged frame followed by a good one, or a damaged manifest or table
// file, fails Open with SQLSTATE XX001. The latest version's number,
// commit time and marks survive restarts; older retained versions do not.
//
// # Files
//
//	def.go        TableDef and ColumnDef
//	shape.go      validation of definitions; what all versions of a table share
//	catalog.go    Catalog, Options, Open, Close, DDL
//	table.go      Table, Write and Writer
//	snapshot.go   Snapshot and its read methods
//	versions.go   retained versions: Versions, SnapshotAt, Pin
//	apply.go      building the next version from a statement (layout rules)
//	index.go      the copy-on-write primary-key index
//	values.go     Go values of SQL types: checks, log and key encodings, Arrow
//	wal.go        log segments, frames and group commit
//	walrec.go     log record encoding
//	checkpoint.go manifest, table files, checkpoints
//	recover.go    recovery in Open
//	lock_*.go     the directory lock
//
// The package imports nothing of Sluice's but catalog/sqltypes and
// catalog/sqlerr (deps_test.go checks). Errors carry a SQLSTATE (package
// sqlerr) from where they arise.
package catalog
