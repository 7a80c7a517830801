package ledger

import (
	"bytes"
	"errors"
	"math"
	"strconv"
)

var errNumber = errors.New("invalid number")

// number appends the number at p.i as ECMAScript's Number.prototype.toString
// prints the double nearest to it (RFC 8785 section 3.2.2.3).
func (p *canon) number(dst []byte) ([]byte, error) {
	start := p.i
	integer, err := p.scanNumber()
	if err != nil {
		return nil, p.errorf("%v", err)
	}
	tok := p.in[start:p.i]
	// Integers of up to 15 digits are exact doubles that print as written.
	if integer && len(tok) <= 15 {
		if string(tok) == "-0" {
			return append(dst, '0'), nil
		}
		return append(dst, tok...), nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.errorf("invalid number %q", tok)
	}
	if math.IsInf(f, 0) {
		f = math.Copysign(math.MaxFloat64, f)
	}
	return appendES6Number(dst, f), nil
}

// scanNumber moves past a JSON number, reporting whether it is an integer
// (no fraction, no exponent).
func (p *canon) scanNumber() (bool, error) {
	in, i := p.in, p.i
	digits := func() int {
		n := 0
		for i < len(in) && '0' <= in[i] && in[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(in) && in[i] == '-' {
		i++
	}
	if i < len(in) && in[i] == '0' {
		i++
	} else if digits() == 0 {
		return false, errNumber
	}
	integer := true
	if i < len(in) && in[i] == '.' {
		i++
		if integer = false; digits() == 0 {
			return false, errNumber
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if integer = false; digits() == 0 {
			return false, errNumber
		}
	}
	p.i = i
	return integer, nil
}

// appendES6Number appends f as ECMAScript prints a Number: the shortest
// digits that round-trip, in plain notation for exponents from -7 to 20
// and in exponential notation outside.
func appendES6Number(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	e := strconv.AppendFloat(nil, f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := bytes.Cut(e, []byte{'e'})
	digits := bytes.Replace(mant, []byte{'.'}, nil, 1)
	x, _ := strconv.Atoi(string(exp))
	k, n := len(digits), x+1 // value = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		return append(dst, bytes.Repeat([]byte{'0'}, n-k)...)
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		return append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		dst = append(dst, bytes.Repeat([]byte{'0'}, -n)...)
		return append(dst, digits...)
	}
	dst = append(dst, digits[0])
	if k > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if n-1 >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(n-1), 10)
}
