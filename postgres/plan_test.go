package postgres_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// trimPlan shortens an EXPLAIN (ANALYZE, BUFFERS) plan for the benchmark
// report: it leaves out the subtrees of nodes that never ran, and writes a
// run of sibling scans that found nothing (the partitions and tenants a
// page did not reach) as one line with their count and buffers.
func trimPlan(plan string) string {
	var out []string
	lines := strings.Split(plan, "\n")
	var run emptyRun
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		ind := indent(l)
		if run.n > 0 && (ind < run.indent || ind == run.indent && !isEmptyScan(l)) {
			out = append(out, run.String())
			run = emptyRun{}
		}
		if !strings.Contains(l, "->") {
			out = append(out, l)
			continue
		}
		end := subtreeEnd(lines, i)
		switch {
		case strings.Contains(l, "(never executed)"):
		case isEmptyScan(l) && end == i+1+attrs(lines[i+1:end]):
			run.add(ind, lines[i:end])
		default:
			out = append(out, l)
			continue
		}
		i = end - 1
	}
	if run.n > 0 {
		out = append(out, run.String())
	}
	return strings.Join(out, "\n")
}

// emptyRun counts sibling scans that returned no rows.
type emptyRun struct {
	indent, n int
	hit, read int
}

var buffersRe = regexp.MustCompile(`(hit|read)=(\d+)`)

func (r *emptyRun) add(ind int, node []string) {
	r.indent = ind
	r.n++
	for _, l := range node[1:] {
		if !strings.Contains(l, "Buffers:") {
			continue
		}
		for _, m := range buffersRe.FindAllStringSubmatch(l, -1) {
			v, _ := strconv.Atoi(m[2])
			if m[1] == "hit" {
				r.hit += v
			} else {
				r.read += v
			}
		}
	}
}

func (r emptyRun) String() string {
	return fmt.Sprintf("%s->  (%d scans that returned no rows; Buffers: shared hit=%d read=%d)",
		strings.Repeat(" ", r.indent), r.n, r.hit, r.read)
}

func isEmptyScan(l string) bool {
	return strings.Contains(l, "->") && strings.Contains(l, " Scan") && strings.Contains(l, " rows=0 loops=1)")
}

func indent(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// subtreeEnd returns the index of the first line after the node at lines[i]
// and everything under it.
func subtreeEnd(lines []string, i int) int {
	ind := indent(lines[i])
	j := i + 1
	for j < len(lines) && indent(lines[j]) > ind {
		j++
	}
	return j
}

// attrs counts the attribute lines at the start of lines (before any child
// node).
func attrs(lines []string) int {
	n := 0
	for n < len(lines) && !strings.Contains(lines[n], "->") {
		n++
	}
	return n
}
