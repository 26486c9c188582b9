package expr

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// String functions. Text is UTF-8; lengths and positions count
// characters, comparisons and searches work on bytes.

// substringError is SQLSTATE 22011 (substring_error), which package sqlerr
// does not name yet.
const substringError = sqlerr.SubstringError

// texts reads a text operand: an array or a constant.
type texts struct {
	a *array.String
	c string
}

func textsOf(v vec) texts {
	if v.arr == nil {
		return texts{c: v.c.(string)}
	}
	return texts{a: v.arr.(*array.String)}
}

func (t texts) at(i int) string {
	if t.a == nil {
		return t.c
	}
	return t.a.Value(i)
}

// mapText builds a text array whose row i is NULL when an argument is
// NULL there, else f(i).
func mapText(c *call, f func(i int) (string, error)) (arrow.Array, error) {
	valid := validSetOf(c.args)
	bld := array.NewStringBuilder(c.st.mem)
	defer bld.Release()
	bld.Reserve(c.n)
	for i := 0; i < c.n; i++ {
		if !valid.get(i) {
			bld.AppendNull()
			continue
		}
		s, err := f(i)
		if err != nil {
			return nil, err
		}
		bld.Append(s)
	}
	return bld.NewArray(), nil
}

// mapInt32 builds an int32 array the same way.
func mapInt32(c *call, f func(i int) int32) (arrow.Array, error) {
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocFixed[int32](c.st.mem, c.n)
	for i := range out {
		if ok.get(i) {
			out[i] = f(i)
		} else {
			out[i] = 0
		}
	}
	return newArray(arrow.PrimitiveTypes.Int32, c.n, vbuf, nulls, buf), nil
}

// mapBool builds a boolean array the same way; f may fail.
func mapBool(c *call, f func(i int) (bool, error)) (arrow.Array, error) {
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocBits(c.st.mem, c.n)
	for i := 0; i < c.n; i++ {
		if !ok.get(i) {
			continue
		}
		r, err := f(i)
		if err != nil {
			buf.Release()
			if vbuf != nil {
				vbuf.Release()
			}
			return nil, err
		}
		out[i>>3] |= b2u8(r) << (i & 7)
	}
	return newArray(arrow.FixedWidthTypes.Boolean, c.n, vbuf, nulls, buf), nil
}

func concatKernel(c *call) (arrow.Array, error) {
	a, b := textsOf(c.args[0]), textsOf(c.args[1])
	return mapText(c, func(i int) (string, error) { return a.at(i) + b.at(i), nil })
}

func lengthKernel(c *call) (arrow.Array, error) {
	s := textsOf(c.args[0])
	return mapInt32(c, func(i int) int32 { return int32(utf8.RuneCountInString(s.at(i))) })
}

func lowerKernel(c *call) (arrow.Array, error) {
	s := textsOf(c.args[0])
	return mapText(c, func(i int) (string, error) { return strings.ToLower(s.at(i)), nil })
}

func upperKernel(c *call) (arrow.Array, error) {
	s := textsOf(c.args[0])
	return mapText(c, func(i int) (string, error) { return strings.ToUpper(s.at(i)), nil })
}

// substrKernel is substr(text, start [, count]) with PostgreSQL's rules:
// characters start .. start+count-1, 1-based, where positions before the
// first character count but select nothing (substr('hello', 0, 2) = 'h');
// a negative count is 22011.
func substrKernel(c *call) (arrow.Array, error) {
	s := textsOf(c.args[0])
	start := fixedColOf[int64](c.args[1], sqltypes.Int64)
	hasCount := len(c.args) == 3
	var count col[int64]
	if hasCount {
		count = fixedColOf[int64](c.args[2], sqltypes.Int64)
	}
	return mapText(c, func(i int) (string, error) {
		st := start.at(i)
		if !hasCount {
			return substr(s.at(i), st, math.MaxInt64), nil
		}
		n := count.at(i)
		if n < 0 {
			return "", sqlerr.New(substringError, "negative substring length not allowed")
		}
		end := int64(math.MaxInt64)
		if st <= 0 || n <= math.MaxInt64-st {
			end = st + n
		}
		if end < 1 {
			return "", nil
		}
		from := max(st, 1)
		return substr(s.at(i), from, end-from), nil
	})
}

// substr returns n characters of s from the 1-based character position
// from (at least 1).
func substr(s string, from, n int64) string {
	from = max(from, 1)
	// skip from-1 characters
	i := 0
	for k := int64(1); k < from; k++ {
		if i >= len(s) {
			return ""
		}
		i += runeLen(s, i)
	}
	if i >= len(s) {
		return ""
	}
	j := i
	for k := int64(0); k < n && j < len(s); k++ {
		j += runeLen(s, j)
	}
	return s[i:j]
}

// runeLen is the byte length of the character at s[i].
func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

// trimKernel is trim/ltrim/rtrim (text [, chars]): chars is a set of
// characters, a space by default.
func trimKernel(left, right bool) kernel {
	return func(c *call) (arrow.Array, error) {
		s := textsOf(c.args[0])
		chars := texts{c: " "}
		if len(c.args) == 2 {
			chars = textsOf(c.args[1])
		}
		return mapText(c, func(i int) (string, error) {
			v, set := s.at(i), chars.at(i)
			if left {
				v = strings.TrimLeft(v, set)
			}
			if right {
				v = strings.TrimRight(v, set)
			}
			return v, nil
		})
	}
}

// replaceKernel is replace(text, from, to); an empty from changes nothing.
func replaceKernel(c *call) (arrow.Array, error) {
	s, from, to := textsOf(c.args[0]), textsOf(c.args[1]), textsOf(c.args[2])
	return mapText(c, func(i int) (string, error) {
		f := from.at(i)
		if f == "" {
			return s.at(i), nil
		}
		return strings.ReplaceAll(s.at(i), f, to.at(i)), nil
	})
}

// positionKernel is position(needle, haystack): the 1-based character
// position of the first occurrence, 0 when absent, 1 for an empty needle.
func positionKernel(c *call) (arrow.Array, error) {
	needle, hay := textsOf(c.args[0]), textsOf(c.args[1])
	return mapInt32(c, func(i int) int32 {
		h := hay.at(i)
		k := strings.Index(h, needle.at(i))
		if k < 0 {
			return 0
		}
		return int32(utf8.RuneCountInString(h[:k])) + 1
	})
}

var _ node = (*concatNode)(nil)

// concatNode is concat(text...): NULL arguments are skipped; never NULL.
type concatNode struct {
	args []node
}

func (n *concatNode) fallible() bool {
	for _, a := range n.args {
		if a.fallible() {
			return true
		}
	}
	return false
}

func (n *concatNode) eval(st *state, b *batch) (vec, error) {
	vals, err := evalAll(st, n.args, b)
	if err != nil {
		return vec{}, err
	}
	defer releaseAll(vals)
	type part struct {
		t     texts
		valid bitmap
	}
	var parts []part
	allConst := true
	for _, v := range vals {
		if v.isNull() {
			continue
		}
		if v.arr != nil {
			allConst = false
		}
		parts = append(parts, part{t: textsOf(v), valid: validityOf(v.arr)})
	}
	if allConst {
		var sb strings.Builder
		for _, p := range parts {
			sb.WriteString(p.t.c)
		}
		return constVec(sb.String()), nil
	}
	bld := array.NewStringBuilder(st.mem)
	defer bld.Release()
	bld.Reserve(b.n)
	var row []byte
	for i := 0; i < b.n; i++ {
		row = row[:0]
		for _, p := range parts {
			if p.valid.get(i) {
				row = append(row, p.t.at(i)...)
			}
		}
		bld.BinaryBuilder.Append(row)
	}
	return vec{arr: bld.NewArray()}, nil
}

// truncateChars returns the first n characters of s.
func truncateChars(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		i += runeLen(s, i)
	}
	return s[:i]
}

// boolBytes is the size in bytes of a bitmap of n bits.
func boolBytes(n int) int { return int(bitutil.BytesForBits(int64(n))) }
