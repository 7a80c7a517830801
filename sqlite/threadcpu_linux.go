package sqlite

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time (user and system) the calling OS thread
// has used; the caller keeps its goroutine on the thread meanwhile.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
