package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Env is what one statement executes with. Use a new Env for every
// statement: it pins the table versions the statement reads.
type Env struct {
	// Mem allocates every Arrow buffer the operators produce. Nil means
	// memory.DefaultAllocator.
	Mem memory.Allocator
	// Catalog holds the tables. Required for statements that touch tables.
	Catalog *catalog.Catalog
	// Params are the values of $1, $2, ... as the Go values of their
	// types (see package sqltypes).
	Params []any
	// Inputs are the operators that plan.Input nodes read, by source
	// name: a stream's runner sets them to the records of the batch.
	Inputs map[string]Operator
	// InputRecords are records plan.Input nodes read, by name, when no
	// operator is given in Inputs: each Input node gets its own operator
	// over them, so a query may read them twice (system tables). The
	// caller owns and releases them.
	InputRecords map[string][]arrow.Record
	// Sources appends the rows of INSERT INTO a source. Nil refuses such
	// inserts.
	Sources SourceWriter
	// Lookups, when set, keeps the build sides of joins over tables
	// across statements: a stream's lookup joins (see LookupCache).
	Lookups *LookupCache
	// Pinned are table snapshots fixed by the caller before building: a
	// stream's batch pins the config-table versions recorded in its plan.
	// Tables not in Pinned are pinned on first use.
	Pinned map[string]*catalog.Snapshot

	// snaps are the snapshots pinned for the statement, by table and
	// version (0: the current one): the builder pins a table the first
	// time it meets it, so every read of the table in the statement (a
	// self-join, INSERT ... SELECT from the same table) sees one version,
	// and every read AS OF VERSION n the same snapshot of version n.
	snaps map[snapKey]*catalog.Snapshot
	// eenv is the expression environment, made on first use.
	eenv *expr.Env
	// lookupSeq numbers the cacheable joins in build order.
	lookupSeq int
}

// SourceWriter appends rows to a source: INSERT INTO a log source.
type SourceWriter interface {
	// AppendRows appends rows (one Go value per source column, as in
	// package sqltypes) to the named source atomically and durably.
	AppendRows(ctx context.Context, source string, rows [][]any) error
}

// mem returns the allocator.
func (e *Env) mem() memory.Allocator {
	if e.Mem == nil {
		return memory.DefaultAllocator
	}
	return e.Mem
}

// exprEnv returns the environment expression programs run in.
func (e *Env) exprEnv() *expr.Env {
	if e.eenv == nil {
		e.eenv = &expr.Env{Mem: e.mem(), Params: e.Params}
	}
	return e.eenv
}

// table returns the named table.
func (e *Env) table(name string) (*catalog.Table, error) {
	if e.Catalog == nil {
		return nil, internalf("no catalog to read table %q from", name)
	}
	t, err := e.Catalog.Table(name)
	if err != nil {
		return nil, fmt.Errorf("exec: table %q: %w", name, err)
	}
	return t, nil
}

// scanSnapshot returns the snapshot a Scan reads: the version pinned for
// the statement, or the retained version it names (AS OF VERSION).
func (e *Env) scanSnapshot(n *plan.Scan) (*catalog.Snapshot, error) {
	version := n.Version
	if p := n.VersionParam; p != nil {
		if p.Index < 0 || p.Index >= len(e.Params) {
			return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", p.Index+1)
		}
		var v int64
		switch x := e.Params[p.Index].(type) {
		case nil:
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "AS OF VERSION of table %q must not be null", n.Table)
		case int16:
			v = int64(x)
		case int32:
			v = int64(x)
		case int64:
			v = x
		default:
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "AS OF VERSION must be type bigint, not %T", x)
		}
		if v < 1 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "AS OF VERSION of table %q must be a version number, at least 1, not %d", n.Table, v)
		}
		version = uint64(v)
	}
	return e.snapshot(n.Table, version)
}

// snapKey names a snapshot pinned for the statement.
type snapKey struct {
	table   string
	version uint64 // 0: the current version
}

// snapshot returns the snapshot of the named table pinned for the
// statement: of the given version (a retained one, see
// catalog.Table.SnapshotAt), or with version 0 of the version in Pinned
// or else the current one, pinned on first use.
func (e *Env) snapshot(name string, version uint64) (*catalog.Snapshot, error) {
	key := snapKey{name, version}
	if s, ok := e.snaps[key]; ok {
		return s, nil
	}
	s, err := e.findSnapshot(name, version)
	if err != nil {
		return nil, err
	}
	if e.snaps == nil {
		e.snaps = make(map[snapKey]*catalog.Snapshot)
	}
	e.snaps[key] = s
	return s, nil
}

// findSnapshot looks a snapshot up for snapshot.
func (e *Env) findSnapshot(name string, version uint64) (*catalog.Snapshot, error) {
	if s, ok := e.Pinned[name]; ok && (version == 0 || version == s.Version()) {
		return s, nil
	}
	t, err := e.table(name)
	if err != nil {
		return nil, err
	}
	if version != 0 {
		s, err := t.SnapshotAt(version)
		if err != nil {
			return nil, fmt.Errorf("exec: table %q: %w", name, err)
		}
		return s, nil
	}
	s := t.Snapshot()
	if s == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: table %q has no snapshot", name)
	}
	return s, nil
}
