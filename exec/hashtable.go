package exec

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// hashTable maps distinct keys (tuples of column values, NULLs equal) to
// dense entry numbers 0, 1, 2, ... in order of first appearance: group ids
// for the hash aggregate, the seen-set of DISTINCT, and the distinct build
// keys of the hash join.
//
// It is columnar: the keys stored so far live in one typed slice per key
// column (keyColOf). A batch of input rows is looked up by binding its key
// arrays and then, per chunk of probeChunk rows (small enough to stay in
// the CPU cache):
//
//  1. hashing the chunk column by column into one hash per row;
//  2. probing the open-addressing table (linear probing) by hash alone:
//     each slot keeps the high bits of its entry's hash, so a row stops at
//     the first slot with its tag (a candidate) or at an empty slot;
//  3. confirming the candidates one key column at a time, in typed loops;
//  4. sending the rows left over (new keys, tag collisions) through the
//     row-at-a-time findOrInsert/find, in row order.
//
// Optionally each key also has an int32 prefix that is not an Arrow
// column: the group id, for the per-group value sets of DISTINCT
// aggregates.
type hashTable struct {
	cols      []keyCol
	usePrefix bool

	// Bound input batch.
	rows   int
	prefix []int32 // prefix per row, when usePrefix
	h      []uint64
	ok     []bool

	// Stored entries.
	n       int32
	hashes  []uint64 // hash per entry
	kprefix []int32  // prefix per entry, when usePrefix
	// slots is the open-addressing table; len is a power of two. A slot
	// holds entry+1 in its low 32 bits (0: empty) and the high 32 bits of
	// the entry's hash in its high 32 bits.
	slots []uint64
	mask  int
}

// probeChunk is the number of rows hashed and probed at a time.
const probeChunk = 2048

const slotEntry = 1<<32 - 1

// slotTag is the part of a hash kept in a slot.
func slotTag(h uint64) uint64 { return h &^ slotEntry }

// newHashTable returns an empty table for keys of the given Arrow types.
// With no key types every row has the same (empty) key.
func newHashTable(dts []arrow.DataType, usePrefix bool) (*hashTable, error) {
	t := &hashTable{usePrefix: usePrefix}
	for _, dt := range dts {
		c, err := newKeyCol(dt)
		if err != nil {
			return nil, err
		}
		t.cols = append(t.cols, c)
	}
	t.slots = make([]uint64, 256)
	t.mask = len(t.slots) - 1
	return t, nil
}

// bind makes the n rows of arrs (one array per key column) and prefix
// (when the table uses one) the batch that the next lookups refer to. The
// arrays must stay alive while the batch is in use.
func (t *hashTable) bind(arrs []arrow.Array, prefix []int32, n int) error {
	if len(arrs) != len(t.cols) {
		return internalf("hash table has %d key columns, got %d", len(t.cols), len(arrs))
	}
	for i, c := range t.cols {
		if arrs[i].Len() != n {
			return internalf("key column %d has %d rows, want %d", i, arrs[i].Len(), n)
		}
		if err := c.bind(arrs[i]); err != nil {
			return err
		}
	}
	if t.usePrefix {
		if len(prefix) < n {
			return internalf("hash table prefix has %d rows, want %d", len(prefix), n)
		}
		t.prefix = prefix[:n]
	}
	t.rows = n
	return nil
}

// anyNull reports whether some key column of bound row i is NULL.
func (t *hashTable) anyNull(i int) bool {
	for _, c := range t.cols {
		if v := c.validity(); v != nil && !v[i] {
			return true
		}
	}
	return false
}

// findOrInsertAll gives every bound row its entry in out, adding the keys
// not yet present; inserted[i] (when inserted is not nil) says whether
// row i added its key. With skipNulls, rows with a NULL key column get
// entry -1 and are not added.
func (t *hashTable) findOrInsertAll(out []int32, inserted []bool, skipNulls bool) {
	for lo := 0; lo < t.rows; lo += probeChunk {
		hi := min(lo+probeChunk, t.rows)
		h := t.hashRows(lo, hi)
		ok, misses := t.probe(lo, h, out[lo:hi])
		if misses == 0 && !skipNulls {
			if inserted != nil {
				clear(inserted[lo:hi])
			}
			continue
		}
		for k, good := range ok {
			i := lo + k
			ins := false
			switch {
			case skipNulls && t.anyNull(i):
				out[i] = -1
			case !good:
				out[i], ins = t.findOrInsert(i, h[k])
			}
			if inserted != nil {
				inserted[i] = ins
			}
		}
	}
}

// findAll gives every bound row its entry in out, or -1 when its key is
// absent or has a NULL column (NULL keys never match).
func (t *hashTable) findAll(out []int32) {
	for lo := 0; lo < t.rows; lo += probeChunk {
		hi := min(lo+probeChunk, t.rows)
		h := t.hashRows(lo, hi)
		ok, _ := t.probe(lo, h, out[lo:hi])
		for k, good := range ok {
			i := lo + k
			switch {
			case t.anyNull(i):
				out[i] = -1
			case !good:
				out[i] = t.find(i, h[k])
			}
		}
	}
}

// hashRows returns the hashes of bound rows [lo, hi).
func (t *hashTable) hashRows(lo, hi int) []uint64 {
	if cap(t.h) < probeChunk {
		t.h = make([]uint64, probeChunk)
	}
	h := t.h[:hi-lo]
	clear(h)
	for _, c := range t.cols {
		c.hash(lo, h)
	}
	if t.usePrefix {
		for k, p := range t.prefix[lo:hi] {
			h[k] = combineHash(h[k], mix64(uint64(p)))
		}
	}
	return h
}

// probe sets out[k] to the entry whose slot tag matches the hash h[k] of
// bound row lo+k, and returns ok, where ok[k] says that the entry's key
// is confirmed equal to the row's, and the number of rows not ok, which
// need a full lookup.
func (t *hashTable) probe(lo int, h []uint64, out []int32) (ok []bool, misses int) {
	if cap(t.ok) < probeChunk {
		t.ok = make([]bool, probeChunk)
	}
	ok = t.ok[:len(h)]
	out = out[:len(h)]
	slots, mask := t.slots, t.mask
	for k, hk := range h {
		tag := slotTag(hk)
		s := int(hk) & mask
		for {
			slot := slots[s]
			if slot == 0 {
				out[k], ok[k] = -1, false
				break
			}
			if slot&^slotEntry == tag {
				out[k], ok[k] = int32(slot&slotEntry)-1, true
				break
			}
			s = (s + 1) & mask
		}
	}
	if t.usePrefix {
		prefix := t.prefix[lo:]
		for k, e := range out {
			if ok[k] {
				ok[k] = t.kprefix[e] == prefix[k]
			}
		}
	}
	for _, c := range t.cols {
		c.verify(lo, out, ok)
	}
	for _, good := range ok {
		if !good {
			misses++
		}
	}
	return ok, misses
}

// matches reports whether bound row i has the key of entry e.
func (t *hashTable) matches(i int, e int32) bool {
	if t.usePrefix && t.kprefix[e] != t.prefix[i] {
		return false
	}
	for _, c := range t.cols {
		if !c.equal(i, e) {
			return false
		}
	}
	return true
}

// findOrInsert returns the entry of bound row i's key, whose hash is h,
// adding the key as a new entry when absent (inserted is then true).
func (t *hashTable) findOrInsert(i int, h uint64) (e int32, inserted bool) {
	tag := slotTag(h)
	for s := int(h) & t.mask; ; s = (s + 1) & t.mask {
		slot := t.slots[s]
		if slot == 0 {
			e = t.n
			t.n++
			t.slots[s] = tag | uint64(e+1)
			t.hashes = append(t.hashes, h)
			if t.usePrefix {
				t.kprefix = append(t.kprefix, t.prefix[i])
			}
			for _, c := range t.cols {
				c.push(i)
			}
			if int(t.n)*2 > len(t.slots) {
				t.grow()
			}
			return e, true
		}
		if slot&^slotEntry == tag && t.matches(i, int32(slot&slotEntry)-1) {
			return int32(slot&slotEntry) - 1, false
		}
	}
}

// find returns the entry of bound row i's key, whose hash is h, or -1.
func (t *hashTable) find(i int, h uint64) int32 {
	tag := slotTag(h)
	for s := int(h) & t.mask; ; s = (s + 1) & t.mask {
		slot := t.slots[s]
		if slot == 0 {
			return -1
		}
		if slot&^slotEntry == tag && t.matches(i, int32(slot&slotEntry)-1) {
			return int32(slot&slotEntry) - 1
		}
	}
}

// grow doubles the slot table.
func (t *hashTable) grow() {
	t.slots = make([]uint64, 2*len(t.slots))
	t.mask = len(t.slots) - 1
	for e, h := range t.hashes {
		s := int(h) & t.mask
		for t.slots[s] != 0 {
			s = (s + 1) & t.mask
		}
		t.slots[s] = slotTag(h) | uint64(e+1)
	}
}

// keyArrays builds the stored keys as arrays of the given types, entry e
// at row e.
func (t *hashTable) keyArrays(mem memory.Allocator, dts []arrow.DataType) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(t.cols))
	for i, c := range t.cols {
		a, err := c.build(mem, dts[i])
		if err != nil {
			releaseArrays(out)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// keyCol is one key column of a hash table: its stored keys, and the input
// array currently bound for lookups.
type keyCol interface {
	// bind makes a the array the row numbers of the other methods refer to.
	bind(a arrow.Array) error
	// hash folds the hashes of bound rows lo, lo+1, ... into h.
	hash(lo int, h []uint64)
	// validity is the bound validity, nil when no row is NULL.
	validity() []bool
	// equal reports whether bound row i equals stored key e (NULL equals
	// NULL).
	equal(i int, e int32) bool
	// verify clears ok[k] for every k with ok[k] set where bound row lo+k
	// does not equal stored key cand[k].
	verify(lo int, cand []int32, ok []bool)
	// push stores bound row i as the next key.
	push(i int)
	// build makes an array of type dt of the stored keys.
	build(mem memory.Allocator, dt arrow.DataType) (arrow.Array, error)
}

// newKeyCol returns a key column for values of type dt. A key column of
// one class can be bound to any array of that class (an INTEGER probe
// against BIGINT keys works).
func newKeyCol(dt arrow.DataType) (keyCol, error) {
	cls, err := classOf(dt)
	if err != nil {
		return nil, err
	}
	switch cls {
	case classInt:
		return &keyColOf[int64]{c: intCodec()}, nil
	case classFloat:
		return &keyColOf[float64]{c: floatCodec()}, nil
	case classString:
		return &keyColOf[string]{c: stringCodec()}, nil
	default:
		return &keyColOf[arrow.MonthDayNanoInterval]{c: intervalCodec()}, nil
	}
}

// keyColOf is a keyCol over values of codec type K.
type keyColOf[K any] struct {
	c codec[K]

	cur      []K    // bound values
	valid    []bool // bound validity, nil: no NULLs
	scratch  []K
	vscratch []bool

	keys   []K
	kvalid []bool
}

func (k *keyColOf[K]) bind(a arrow.Array) error {
	cur, err := k.c.load(a, &k.scratch)
	if err != nil {
		return err
	}
	k.cur = cur
	k.valid = validityOf(a, &k.vscratch)
	return nil
}

func (k *keyColOf[K]) hash(lo int, h []uint64) {
	cur := k.cur[lo : lo+len(h)]
	if ints, ok := any(cur).([]int64); ok && k.valid == nil {
		// The integer codec's hash, inlined: the common GROUP BY and
		// join key.
		for i, v := range ints {
			h[i] = combineHash(h[i], hashInt(v))
		}
		return
	}
	hash := k.c.hash
	if k.valid == nil {
		for i, v := range cur {
			h[i] = combineHash(h[i], hash(v))
		}
		return
	}
	valid := k.valid[lo : lo+len(h)]
	for i, v := range cur {
		hv := nullHash
		if valid[i] {
			hv = hash(v)
		}
		h[i] = combineHash(h[i], hv)
	}
}

func (k *keyColOf[K]) validity() []bool { return k.valid }

func (k *keyColOf[K]) equal(i int, e int32) bool {
	vi := k.valid == nil || k.valid[i]
	if vi != k.kvalid[e] {
		return false
	}
	return !vi || k.c.eq(k.cur[i], k.keys[e])
}

func (k *keyColOf[K]) verify(lo int, cand []int32, ok []bool) {
	if ints, isInt := any(k.cur).([]int64); isInt && k.valid == nil {
		cur := ints[lo : lo+len(cand)]
		keys := any(k.keys).([]int64)
		for i, e := range cand {
			if ok[i] {
				ok[i] = k.kvalid[e] && cur[i] == keys[e]
			}
		}
		return
	}
	for i, e := range cand {
		if ok[i] {
			ok[i] = k.equal(lo+i, e)
		}
	}
}

func (k *keyColOf[K]) push(i int) {
	vi := k.valid == nil || k.valid[i]
	var v K
	if vi {
		v = k.cur[i]
		if k.c.own != nil {
			v = k.c.own(v)
		}
	}
	k.keys = append(k.keys, v)
	k.kvalid = append(k.kvalid, vi)
}

func (k *keyColOf[K]) build(mem memory.Allocator, dt arrow.DataType) (arrow.Array, error) {
	return k.c.build(mem, dt, k.keys, k.kvalid)
}
