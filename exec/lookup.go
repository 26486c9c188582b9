package exec

import (
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/planner/plan"
)

// LookupCache keeps the build sides of a stream's lookup joins from one
// micro-batch to the next. A join whose build (right) side reads only
// tables (Scans, with Filters and Projects over them) is the same for
// every batch that pins the same table versions, so its hash table is
// built once per combination of versions and probed by every batch until
// a table changes. Entries are keyed by the join's place in the plan (the
// n-th lookup join Build meets) and carry a signature: the printed build
// plan and the version of each table it reads. A changed signature
// replaces the entry and frees the old one.
//
// A cached hash table is probed in place (probing binds the batch's keys
// into it), so one cache serves one stream, whose batches run one at a
// time: that is how package stream uses it. Close frees everything.
type LookupCache struct {
	mu    sync.Mutex
	slots map[string]*lookupEntry
	hits  int64
	built int64
}

type lookupEntry struct {
	sig string
	jb  *joinBuild
}

// joinBuild is a hash join's build side: the right rows, the hash table of
// their keys and the chains of rows per key. It is not changed once built
// (except the hash table's probe scratch).
type joinBuild struct {
	build arrow.Record
	ht    *hashTable
	first []int32
	next  []int32
}

// NewLookupCache returns an empty cache.
func NewLookupCache() *LookupCache { return &LookupCache{slots: map[string]*lookupEntry{}} }

// Stats returns how many lookups were served from the cache and how many
// build sides were built.
func (c *LookupCache) Stats() (hits, built int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.built
}

// get returns the build side of slot when its signature is sig, with a
// reference the caller releases.
func (c *LookupCache) get(slot, sig string) *joinBuild {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.slots[slot]
	if !ok || e.sig != sig {
		return nil
	}
	c.hits++
	e.jb.build.Retain()
	return e.jb
}

// put stores a build side (the cache takes its own reference), freeing
// the one it replaces.
func (c *LookupCache) put(slot, sig string, jb *joinBuild) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.built++
	if old, ok := c.slots[slot]; ok {
		old.jb.build.Release()
	}
	jb.build.Retain()
	c.slots[slot] = &lookupEntry{sig: sig, jb: jb}
}

// Close frees every entry.
func (c *LookupCache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.slots {
		e.jb.build.Release()
		delete(c.slots, k)
	}
}

// lookupSignature returns the signature of a join's build side when it
// reads only tables (so it can be cached), or ok false.
func lookupSignature(env *Env, n plan.Node) (string, bool, error) {
	var b strings.Builder
	var walk func(n plan.Node) (bool, error)
	walk = func(n plan.Node) (bool, error) {
		switch n := n.(type) {
		case *plan.Scan:
			snap, err := env.scanSnapshot(n)
			if err != nil {
				return false, err
			}
			fmt.Fprintf(&b, "%s@%d/%d;", n.Table, snap.TableID(), snap.Version())
			return true, nil
		case *plan.Filter, *plan.Project:
			if hasParams(n) {
				return false, nil
			}
			return walk(n.Children()[0])
		}
		return false, nil
	}
	ok, err := walk(n)
	if !ok || err != nil {
		return "", false, err
	}
	return plan.Format(n) + b.String(), true, nil
}

// hasParams reports whether a Filter's or Project's expressions use $n.
func hasParams(n plan.Node) bool {
	var exprs []plan.Expr
	switch n := n.(type) {
	case *plan.Filter:
		exprs = []plan.Expr{n.Pred}
	case *plan.Project:
		exprs = n.Exprs
	}
	for _, e := range exprs {
		if exprHasParam(e) {
			return true
		}
	}
	return false
}

func exprHasParam(e plan.Expr) bool {
	switch e := e.(type) {
	case *plan.Param:
		return true
	case *plan.Func:
		for _, a := range e.Args {
			if exprHasParam(a) {
				return true
			}
		}
	case *plan.Cast:
		return exprHasParam(e.Arg)
	case *plan.Case:
		for _, w := range e.Whens {
			if exprHasParam(w.Cond) || exprHasParam(w.Then) {
				return true
			}
		}
		return e.Else != nil && exprHasParam(e.Else)
	}
	return false
}
