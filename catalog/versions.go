package catalog

import (
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file keeps a table's recent versions readable. Every committed
// version enters the table's history when it is published; the history
// keeps the versions within Options.RetainVersions of the latest, plus
// any older version someone has pinned (Table.Pin) until its last pin is
// released. A version that leaves the history is no longer reachable
// through the table: its snapshot, and the chunks only it refers to, are
// garbage once the last reader drops its *Snapshot (chunks shared with a
// retained version live on in it). The history is not durable: after a
// restart a table holds only its recovered latest version.

// VersionInfo describes one retained version of a table.
type VersionInfo struct {
	// Version is the version number (see Snapshot.Version).
	Version uint64
	// CommittedAt is when the version was committed.
	CommittedAt time.Time
	// Rows is the number of rows in the version.
	Rows int
	// Pinned is set while someone holds a pin on the version (Table.Pin).
	Pinned bool
}

// history is a table's retained versions.
type history struct {
	mu      sync.Mutex
	keep    uint64     // Options.RetainVersions
	entries []retained // ascending by version
}

// retained is one version in a history.
type retained struct {
	snap *Snapshot
	pins int
}

// add records a newly published version (once; publishing again is a
// no-op) and drops the versions it pushes out of the retention window.
// The caller holds h.mu.
func (h *history) add(s *Snapshot) {
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].snap.version >= s.version })
	if i < len(h.entries) && h.entries[i].snap.version == s.version {
		return
	}
	h.entries = append(h.entries, retained{})
	copy(h.entries[i+1:], h.entries[i:])
	h.entries[i] = retained{snap: s}
	h.trim()
}

// trim drops the unpinned versions older than the last h.keep. Versions
// are numbered without gaps, so the window is a range of numbers; a
// version published late (writers of one table may return out of order)
// falls outside it at once if newer ones already filled it. The caller
// holds h.mu.
func (h *history) trim() {
	latest := h.entries[len(h.entries)-1].snap.version
	out := h.entries[:0]
	for _, e := range h.entries {
		if e.pins > 0 || e.snap.version+h.keep > latest {
			out = append(out, e)
		}
	}
	clear(h.entries[len(out):]) // let the dropped snapshots go
	h.entries = out
}

// find returns the index of version (0: the latest) or a 22023 error
// naming the table, the version and what is retained. The caller holds
// h.mu.
func (h *history) find(table string, version uint64) (int, error) {
	last := len(h.entries) - 1
	if version == 0 {
		return last, nil
	}
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].snap.version >= version })
	if i < len(h.entries) && h.entries[i].snap.version == version {
		return i, nil
	}
	if latest := h.entries[last].snap.version; version > latest {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue,
			"table \"%s\" has no version %d: its latest version is %d", table, version, latest)
	}
	e := sqlerr.New(sqlerr.InvalidParameterValue,
		"version %d of table \"%s\" is no longer retained: the oldest retained version is %d",
		version, table, h.entries[0].snap.version)
	e.Hint = "A table retains its last " + strconv.FormatUint(h.keep, 10) + " versions and the versions running stream batches pin; a restart retains only the latest."
	return 0, e
}

// Versions returns the table's retained versions, oldest first: the last
// Options.RetainVersions committed versions (fewer right after CREATE
// TABLE or a restart, which retains only the recovered latest version),
// and older versions while they are pinned.
func (t *Table) Versions() []VersionInfo {
	t.hist.mu.Lock()
	defer t.hist.mu.Unlock()
	out := make([]VersionInfo, len(t.hist.entries))
	for i, e := range t.hist.entries {
		out[i] = VersionInfo{Version: e.snap.version, CommittedAt: e.snap.committedAt,
			Rows: e.snap.NumRows(), Pinned: e.pins > 0}
	}
	return out
}

// SnapshotAt returns the snapshot of a retained version; version 0 is the
// latest committed one (as Snapshot). A version that is not retained, or
// not committed yet, is an error with SQLSTATE 22023 that names the table,
// the version and the oldest retained (or the latest) version.
//
// The snapshot stays readable for as long as the caller holds it, even
// once the table no longer retains its version; Pin also keeps the
// version listed and readable through the table.
func (t *Table) SnapshotAt(version uint64) (*Snapshot, error) {
	t.hist.mu.Lock()
	defer t.hist.mu.Unlock()
	i, err := t.hist.find(t.shape.def.Name, version)
	if err != nil {
		return nil, err
	}
	return t.hist.entries[i].snap, nil
}

// Pin returns the snapshot of a retained version (0: the latest committed
// one) and keeps the table retaining that version, however many versions
// are committed after it, until release is called. A stream pins the
// versions its batch reads when it plans the batch and releases them when
// the batch commits, so the versions of an uncommitted batch stay listed
// and readable (AS OF VERSION). Pins of one version add up; release is
// safe to call more than once (later calls do nothing). Errors are those
// of SnapshotAt.
func (t *Table) Pin(version uint64) (snap *Snapshot, release func(), err error) {
	t.hist.mu.Lock()
	defer t.hist.mu.Unlock()
	i, err := t.hist.find(t.shape.def.Name, version)
	if err != nil {
		return nil, nil, err
	}
	t.hist.entries[i].pins++
	snap = t.hist.entries[i].snap
	var once sync.Once
	return snap, func() { once.Do(func() { t.unpin(snap.version) }) }, nil
}

// unpin releases one pin of version and drops the version if it is
// outside the retention window and no longer pinned.
func (t *Table) unpin(version uint64) {
	t.hist.mu.Lock()
	defer t.hist.mu.Unlock()
	i, err := t.hist.find(t.shape.def.Name, version)
	if err != nil || t.hist.entries[i].pins == 0 {
		return // cannot happen: a pinned version is retained
	}
	t.hist.entries[i].pins--
	if t.hist.entries[i].pins == 0 {
		t.hist.trim()
	}
}
