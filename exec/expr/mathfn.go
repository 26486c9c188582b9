package expr

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// invalidArgumentForPower is SQLSTATE 2201F, which package sqlerr does not
// name yet.
const invalidArgumentForPower = sqlerr.InvalidArgumentForPower

// mapFloat64 applies f to the rows of a float64 operand; f may fail for a
// non-NULL row.
func mapFloat64(c *call, f func(i int) (float64, error)) (arrow.Array, error) {
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocFixed[float64](c.st.mem, c.n)
	var err error
	for i := range out {
		if !ok.get(i) {
			out[i] = 0
			continue
		}
		if out[i], err = f(i); err != nil {
			break
		}
	}
	return fixedResult(sqltypes.Float64, c.n, vbuf, nulls, buf, err)
}

// unaryFloat is a float64 -> float64 function that cannot fail.
func unaryFloat(f func(float64) float64) kernel {
	return func(c *call) (arrow.Array, error) {
		x := fixedColOf[float64](c.args[0], sqltypes.Float64)
		vbuf, nulls := argValidity(c)
		buf, out := allocFixed[float64](c.st.mem, c.n)
		for i := range out {
			out[i] = f(x.at(i))
		}
		return newArray(arrow.PrimitiveTypes.Float64, c.n, vbuf, nulls, buf), nil
	}
}

// roundHalfEven is PostgreSQL's round(double precision): rint, halves to
// even (round(2.5) = 2, round(-2.5) = -2), keeping the sign of zero.
func roundHalfEven(x float64) float64 { return math.RoundToEven(x) }

// roundKernel is round(float64 [, int64 digits]). Without digits it is
// PostgreSQL's float8 round (halves to even). With digits it rounds
// the shortest decimal form of x, as PostgreSQL's round(numeric, int)
// would round the decimal the user wrote: round(2.675, 2) = 2.68.
func roundKernel(c *call) (arrow.Array, error) {
	x := fixedColOf[float64](c.args[0], sqltypes.Float64)
	if len(c.args) == 1 {
		return unaryFloat(roundHalfEven)(c)
	}
	d := fixedColOf[int64](c.args[1], sqltypes.Int64)
	return mapFloat64(c, func(i int) (float64, error) { return roundDigits(x.at(i), d.at(i)), nil })
}

// roundDigits rounds x to d decimal places (d < 0 rounds to tens,
// hundreds ...), halves away from zero, on its shortest decimal form.
func roundDigits(x float64, d int64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	if d == 0 {
		// numeric's rule: halves away from zero, no negative zero.
		if r := math.Round(x); r != 0 {
			return r
		}
		return 0
	}
	neg := x < 0
	s := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var digits string // the kept digits, before rounding
	var roundUp bool
	var scale int // decimal places the kept digits are shifted by
	if d > 0 {
		if d >= int64(len(frac)) {
			return x
		}
		digits = intPart + frac[:d]
		roundUp = frac[d] >= '5'
		scale = int(d)
	} else {
		k := int64(len(intPart)) + d // digits of intPart kept
		if k < 0 {
			return 0
		}
		digits = intPart[:k]
		roundUp = intPart[k] >= '5'
		scale = int(d)
	}
	b := []byte(digits)
	if roundUp {
		i := len(b) - 1
		for ; i >= 0; i-- {
			if b[i] == '9' {
				b[i] = '0'
				continue
			}
			b[i]++
			break
		}
		if i < 0 {
			b = append([]byte{'1'}, b...)
		}
	}
	if len(b) == 0 {
		return 0
	}
	r, _ := strconv.ParseFloat(string(b)+"e"+strconv.Itoa(-scale), 64)
	if r == 0 {
		return 0
	}
	if neg {
		r = -r
	}
	return r
}

// powerKernel is power(x, y) with PostgreSQL's special cases and errors.
func powerKernel(c *call) (arrow.Array, error) {
	x, y := fixedColOf[float64](c.args[0], sqltypes.Float64), fixedColOf[float64](c.args[1], sqltypes.Float64)
	return mapFloat64(c, func(i int) (float64, error) { return power(x.at(i), y.at(i)) })
}

func power(x, y float64) (float64, error) {
	switch {
	case math.IsNaN(x):
		if math.IsNaN(y) || y != 0 {
			return math.NaN(), nil
		}
		return 1, nil
	case math.IsNaN(y):
		if x != 1 {
			return math.NaN(), nil
		}
		return 1, nil
	case x == 0 && y < 0:
		return 0, sqlerr.New(invalidArgumentForPower, "zero raised to a negative power is undefined")
	case x < 0 && math.Floor(y) != y:
		return 0, sqlerr.New(invalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result")
	}
	r := math.Pow(x, y)
	if math.IsInf(x, 0) || math.IsInf(y, 0) {
		return r, nil
	}
	if math.IsInf(r, 0) {
		return 0, errFloatOverflow()
	}
	if r == 0 && x != 0 {
		return 0, errFloatUnderflow()
	}
	return r, nil
}

// sqrtKernel is sqrt(x); a negative x is 2201F.
func sqrtKernel(c *call) (arrow.Array, error) {
	x := fixedColOf[float64](c.args[0], sqltypes.Float64)
	return mapFloat64(c, func(i int) (float64, error) {
		v := x.at(i)
		if v < 0 {
			return 0, sqlerr.New(invalidArgumentForPower, "cannot take square root of a negative number")
		}
		return math.Sqrt(v), nil
	})
}
