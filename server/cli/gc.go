package cli

import "runtime/debug"

// Garbage collector defaults for serving: a request allocates a few KiB
// in net/http while the live heap stays small (the file cache is at most
// 8 MiB), so the default GOGC=100 collects every few hundred requests.
// GOGC=400 collects 4 times less often; the soft memory limit keeps the
// heap, and so the RSS, within the 32 MB budget of a 64 MB container
// whatever the live heap. Setting GOGC or GOMEMLIMIT in the environment
// keeps the runtime's own handling of that variable.
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 20 << 20 // bytes
)

// gcSettings returns the GC percent and memory limit to apply, -1 for
// each one the environment sets.
func gcSettings(getenv func(string) string) (percent int, limit int64) {
	percent, limit = DefaultGCPercent, DefaultMemoryLimit
	if getenv("GOGC") != "" {
		percent = -1
	}
	if getenv("GOMEMLIMIT") != "" {
		limit = -1
	}
	return percent, limit
}

// tuneGC applies gcSettings.
func tuneGC(getenv func(string) string) {
	percent, limit := gcSettings(getenv)
	if percent >= 0 {
		debug.SetGCPercent(percent)
	}
	if limit >= 0 {
		debug.SetMemoryLimit(limit)
	}
}
