package tables

import (
	"strconv"
	"strings"
)

// Dollar rewrites ? placeholders as $1, $2, ... (PostgreSQL), leaving any ?
// inside a quoted string alone.
func Dollar(q string) string {
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
