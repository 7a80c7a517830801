package sqlite

import "github.com/trailhq/trail"

// StorageFaultCode is the trail error code that a store error maps to, ""
// for an error that is no storage fault.
func StorageFaultCode(err error) string {
	if f := storageFault(err); f != nil {
		return trail.ErrorCode(f)
	}
	return ""
}
