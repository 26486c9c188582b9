package expr

import (
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Arithmetic kernels. Each computes every row in a tight loop (NULL rows
// included: their values are garbage but harmless) while accumulating a
// flag that some row may have failed; only then does it look for a
// non-NULL row that really failed, so the checks cost little when nothing
// fails. Integer division tests the divisor first: Go panics on x/0.

type sint interface{ int16 | int32 | int64 }

type float interface{ float32 | float64 }

func errDivByZero() error { return sqlerr.New(sqlerr.DivisionByZero, "division by zero") }

// arithKernel returns the kernel of + - * / % over two values of numeric
// type t.
func arithKernel(op byte, t sqltypes.Type) (kernel, bool) {
	switch t.Kind {
	case sqltypes.KindInt16:
		return intArith[int16](op, t), true
	case sqltypes.KindInt32:
		return intArith[int32](op, t), true
	case sqltypes.KindInt64:
		return intArith[int64](op, t), true
	case sqltypes.KindFloat32:
		return floatArith[float32](op, t), true
	case sqltypes.KindFloat64:
		return floatArith[float64](op, t), true
	}
	return nil, false
}

// fixedResult wraps a filled value buffer and a validity buffer into an
// array, or releases both when err is set.
func fixedResult(t sqltypes.Type, n int, vbuf *memory.Buffer, nulls int, buf *memory.Buffer, err error) (arrow.Array, error) {
	if err != nil {
		buf.Release()
		if vbuf != nil {
			vbuf.Release()
		}
		return nil, err
	}
	return newArray(t.Arrow(), n, vbuf, nulls, buf), nil
}

func intArith[T sint](op byte, t sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		a, b := fixedColOf[T](c.args[0], t), fixedColOf[T](c.args[1], t)
		if a.isConst() && (op == '+' || op == '*') {
			a, b = b, a
		}
		vbuf, nulls := argValidity(c)
		ok := bitsOfBuf(vbuf)
		buf, out := allocFixed[T](c.st.mem, c.n)
		var err error
		switch op {
		case '+':
			err = addInt(a, b, out, ok, t)
		case '-':
			err = subInt(a, b, out, ok, t)
		case '*':
			err = mulInt(a, b, out, ok, t)
		case '/':
			err = divInt(a, b, out, ok, t)
		case '%':
			err = modInt(a, b, out, ok)
		}
		return fixedResult(t, c.n, vbuf, nulls, buf, err)
	}
}

// The loops below have a fast shape for a column and a column or a
// constant on the right (the kernels move a constant left operand of a
// commutative operator to the right), and a general one reading through
// col.at for the rest.

func addInt[T sint](a, b col[T], out []T, ok bitmap, t sqltypes.Type) error {
	var acc T
	switch {
	case !a.isConst() && !b.isConst():
		va, vb := a.v[:len(out)], b.v[:len(out)]
		for i, x := range va {
			y := vb[i]
			r := x + y
			out[i] = r
			acc |= (x ^ r) & (y ^ r)
		}
	case !a.isConst():
		va, y := a.v[:len(out)], b.v[0]
		for i, x := range va {
			r := x + y
			out[i] = r
			acc |= (x ^ r) & (y ^ r)
		}
	default:
		for i := range out {
			x, y := a.at(i), b.at(i)
			r := x + y
			out[i] = r
			acc |= (x ^ r) & (y ^ r)
		}
	}
	if acc >= 0 {
		return nil
	}
	for i, r := range out {
		x, y := a.at(i), b.at(i)
		if (x^r)&(y^r) < 0 && ok.get(i) {
			return errOutOfRange(t)
		}
	}
	return nil
}

func subInt[T sint](a, b col[T], out []T, ok bitmap, t sqltypes.Type) error {
	var acc T
	switch {
	case !a.isConst() && !b.isConst():
		va, vb := a.v[:len(out)], b.v[:len(out)]
		for i, x := range va {
			y := vb[i]
			r := x - y
			out[i] = r
			acc |= (x ^ y) & (x ^ r)
		}
	case !a.isConst():
		va, y := a.v[:len(out)], b.v[0]
		for i, x := range va {
			r := x - y
			out[i] = r
			acc |= (x ^ y) & (x ^ r)
		}
	default:
		for i := range out {
			x, y := a.at(i), b.at(i)
			r := x - y
			out[i] = r
			acc |= (x ^ y) & (x ^ r)
		}
	}
	if acc >= 0 {
		return nil
	}
	for i, r := range out {
		x, y := a.at(i), b.at(i)
		if (x^y)&(x^r) < 0 && ok.get(i) {
			return errOutOfRange(t)
		}
	}
	return nil
}

// mulInt multiplies in 64 bits and checks the product fits T; bigint
// products are checked on their 128-bit high word.
func mulInt[T sint](a, b col[T], out []T, ok bitmap, t sqltypes.Type) error {
	if t.Kind == sqltypes.KindInt64 {
		return mulInt64(any(a).(col[int64]), any(b).(col[int64]), any(out).([]int64), ok, t)
	}
	var bad uint8
	switch {
	case !a.isConst() && !b.isConst():
		va, vb := a.v[:len(out)], b.v[:len(out)]
		for i, x := range va {
			r := int64(x) * int64(vb[i])
			out[i] = T(r)
			bad |= b2u8(int64(T(r)) != r)
		}
	case !a.isConst():
		va, y := a.v[:len(out)], int64(b.v[0])
		for i, x := range va {
			r := int64(x) * y
			out[i] = T(r)
			bad |= b2u8(int64(T(r)) != r)
		}
	default:
		for i := range out {
			r := int64(a.at(i)) * int64(b.at(i))
			out[i] = T(r)
			bad |= b2u8(int64(T(r)) != r)
		}
	}
	if bad == 0 {
		return nil
	}
	for i := range out {
		r := int64(a.at(i)) * int64(b.at(i))
		if int64(T(r)) != r && ok.get(i) {
			return errOutOfRange(t)
		}
	}
	return nil
}

func mulInt64(a, b col[int64], out []int64, ok bitmap, t sqltypes.Type) error {
	var bad uint8
	switch {
	case !a.isConst() && !b.isConst():
		va, vb := a.v[:len(out)], b.v[:len(out)]
		for i, x := range va {
			hi, lo := mul64x64(x, vb[i])
			out[i] = int64(lo)
			bad |= b2u8(hi != int64(lo)>>63)
		}
	case !a.isConst():
		va, y := a.v[:len(out)], b.v[0]
		for i, x := range va {
			hi, lo := mul64x64(x, y)
			out[i] = int64(lo)
			bad |= b2u8(hi != int64(lo)>>63)
		}
	default:
		for i := range out {
			hi, lo := mul64x64(a.at(i), b.at(i))
			out[i] = int64(lo)
			bad |= b2u8(hi != int64(lo)>>63)
		}
	}
	if bad == 0 {
		return nil
	}
	for i := range out {
		hi, lo := mul64x64(a.at(i), b.at(i))
		if hi != int64(lo)>>63 && ok.get(i) {
			return errOutOfRange(t)
		}
	}
	return nil
}

func divInt[T sint](a, b col[T], out []T, ok bitmap, t sqltypes.Type) error {
	for i := range out {
		x, y := a.at(i), b.at(i)
		switch y {
		case 0:
			if ok.get(i) {
				return errDivByZero()
			}
			out[i] = 0
		case -1:
			r := -x
			if r == x && x != 0 && ok.get(i) {
				return errOutOfRange(t)
			}
			out[i] = r
		default:
			out[i] = x / y
		}
	}
	return nil
}

func modInt[T sint](a, b col[T], out []T, ok bitmap) error {
	for i := range out {
		x, y := a.at(i), b.at(i)
		switch y {
		case 0:
			if ok.get(i) {
				return errDivByZero()
			}
			out[i] = 0
		case -1:
			out[i] = 0
		default:
			out[i] = x % y
		}
	}
	return nil
}

func floatArith[F float](op byte, t sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		a, b := fixedColOf[F](c.args[0], t), fixedColOf[F](c.args[1], t)
		if a.isConst() && (op == '+' || op == '*') {
			a, b = b, a
		}
		vbuf, nulls := argValidity(c)
		ok := bitsOfBuf(vbuf)
		buf, out := allocFixed[F](c.st.mem, c.n)
		var bad uint8
		if a.isConst() {
			// a constant minus, over or modulo a column: the general loop
			for i := range out {
				x, y := a.at(i), b.at(i)
				r, _ := floatOp(op, x, y)
				out[i] = r
				bad |= b2u8(floatCheck(op, x, y, r) != nil)
			}
		} else {
			va, vb, mb := a.v[:len(out)], b.v, b.m
			switch op {
			case '+':
				for i, x := range va {
					y := vb[i&mb]
					r := x + y
					out[i] = r
					bad |= b2u8(isInf(r) && !isInf(x) && !isInf(y))
				}
			case '-':
				for i, x := range va {
					y := vb[i&mb]
					r := x - y
					out[i] = r
					bad |= b2u8(isInf(r) && !isInf(x) && !isInf(y))
				}
			case '*':
				for i, x := range va {
					y := vb[i&mb]
					r := x * y
					out[i] = r
					bad |= b2u8((isInf(r) && !isInf(x) && !isInf(y)) || (r == 0 && x != 0 && y != 0))
				}
			case '/':
				for i, x := range va {
					y := vb[i&mb]
					r := x / y
					out[i] = r
					bad |= b2u8(y == 0 || (isInf(r) && !isInf(x)) || (r == 0 && x != 0 && !isInf(y)))
				}
			case '%':
				for i, x := range va {
					y := vb[i&mb]
					out[i] = F(math.Mod(float64(x), float64(y)))
					bad |= b2u8(y == 0)
				}
			}
		}
		var err error
		if bad != 0 {
			for i, r := range out {
				if ok.get(i) {
					if err = floatCheck(op, a.at(i), b.at(i), r); err != nil {
						break
					}
				}
			}
		}
		return fixedResult(t, c.n, vbuf, nulls, buf, err)
	}
}

// floatOp computes x op y.
func floatOp[F float](op byte, x, y F) (F, bool) {
	switch op {
	case '+':
		return x + y, true
	case '-':
		return x - y, true
	case '*':
		return x * y, true
	case '/':
		return x / y, true
	case '%':
		return F(math.Mod(float64(x), float64(y))), true
	}
	return 0, false
}

// floatCheck returns PostgreSQL's error, if any, for r = x op y.
func floatCheck[F float](op byte, x, y, r F) error {
	switch op {
	case '+', '-':
		if isInf(r) && !isInf(x) && !isInf(y) {
			return errFloatOverflow()
		}
	case '*':
		if isInf(r) && !isInf(x) && !isInf(y) {
			return errFloatOverflow()
		}
		if r == 0 && x != 0 && y != 0 {
			return errFloatUnderflow()
		}
	case '/', '%':
		if y == 0 && x == x {
			return errDivByZero()
		}
		if op == '%' {
			return nil
		}
		if isInf(r) && !isInf(x) {
			return errFloatOverflow()
		}
		if r == 0 && x != 0 && !isInf(y) {
			return errFloatUnderflow()
		}
	}
	return nil
}

// isInf reports whether x is +Inf or -Inf.
func isInf[F float](x F) bool { return x-x != 0 && x == x }

// negKernel is unary minus over a numeric type.
func negKernel(t sqltypes.Type) (kernel, bool) {
	switch t.Kind {
	case sqltypes.KindInt16:
		return negInt[int16](t, false), true
	case sqltypes.KindInt32:
		return negInt[int32](t, false), true
	case sqltypes.KindInt64:
		return negInt[int64](t, false), true
	case sqltypes.KindFloat32:
		return negFloat[float32](t, false), true
	case sqltypes.KindFloat64:
		return negFloat[float64](t, false), true
	}
	return nil, false
}

// absKernel is abs() over a numeric type.
func absKernel(t sqltypes.Type) (kernel, bool) {
	switch t.Kind {
	case sqltypes.KindInt16:
		return negInt[int16](t, true), true
	case sqltypes.KindInt32:
		return negInt[int32](t, true), true
	case sqltypes.KindInt64:
		return negInt[int64](t, true), true
	case sqltypes.KindFloat32:
		return negFloat[float32](t, true), true
	case sqltypes.KindFloat64:
		return negFloat[float64](t, true), true
	}
	return nil, false
}

// negInt negates (or, with abs, takes the absolute value); only the
// minimum value overflows.
func negInt[T sint](t sqltypes.Type, abs bool) kernel {
	return func(c *call) (arrow.Array, error) {
		a := fixedColOf[T](c.args[0], t)
		vbuf, nulls := argValidity(c)
		ok := bitsOfBuf(vbuf)
		buf, out := allocFixed[T](c.st.mem, c.n)
		var bad uint8
		for i := range out {
			x := a.at(i)
			r := -x
			if abs && x >= 0 {
				r = x
			}
			out[i] = r
			bad |= b2u8(x != 0 && x == -x)
		}
		var err error
		if bad != 0 {
			for i := range out {
				if x := a.at(i); x != 0 && x == -x && ok.get(i) {
					err = errOutOfRange(t)
					break
				}
			}
		}
		return fixedResult(t, c.n, vbuf, nulls, buf, err)
	}
}

func negFloat[F float](t sqltypes.Type, abs bool) kernel {
	return func(c *call) (arrow.Array, error) {
		a := fixedColOf[F](c.args[0], t)
		vbuf, nulls := argValidity(c)
		buf, out := allocFixed[F](c.st.mem, c.n)
		for i := range out {
			if abs {
				out[i] = F(math.Abs(float64(a.at(i))))
			} else {
				out[i] = -a.at(i)
			}
		}
		return newArray(t.Arrow(), c.n, vbuf, nulls, buf), nil
	}
}
