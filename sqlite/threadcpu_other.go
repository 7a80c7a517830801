//go:build !linux

package sqlite

import "time"

// threadCPU is not measured here: commit CPU time reads as zero.
func threadCPU() time.Duration { return 0 }
