package files

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// MaxRanges is the most parts a Range request may ask for. Requests with
// more parts, or with overlapping parts, are served whole (200), which
// RFC 9110 section 14.2 allows: they cost CPU per part, or send the same
// bytes many times, and no real client sends them.
const MaxRanges = 16

// limitRanges removes r's Range header when it asks for more than
// MaxRanges parts or for parts that overlap in a file of size bytes, so
// that http.ServeContent serves the whole file. Headers it cannot parse
// are left to http.ServeContent (416). It reports whether it removed it.
func limitRanges(r *http.Request, size int64) bool {
	v := r.Header.Get("Range")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return false
	}
	if strings.Count(spec, ",") >= MaxRanges {
		r.Header.Del("Range")
		return true
	}
	type span struct{ start, end int64 } // [start, end)
	var spans []span
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, ok := strings.Cut(part, "-")
		if !ok {
			return false
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var s span
		if first == "" { // suffix: the last N bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return false
			}
			s = span{max(size-n, 0), size}
		} else {
			a, err := strconv.ParseInt(first, 10, 64)
			if err != nil || a < 0 {
				return false
			}
			b := size - 1
			if last != "" {
				if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
					return false
				}
			}
			s = span{a, min(b, size-1) + 1}
		}
		if s.start >= s.end {
			continue // unsatisfiable part: http.ServeContent drops it
		}
		spans = append(spans, s)
	}
	slices.SortFunc(spans, func(a, b span) int { return int(min(max(a.start-b.start, -1), 1)) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			r.Header.Del("Range")
			return true
		}
	}
	return false
}
