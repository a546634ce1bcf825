package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGCSettings(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, DefaultGCPercent, DefaultMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "100"}, -1, DefaultMemoryLimit},
		{"GOGC=off set", map[string]string{"GOGC": "off"}, -1, DefaultMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "64MiB"}, DefaultGCPercent, -1},
		{"both set", map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, l := gcSettings(func(k string) string { return tt.env[k] })
			if diff := cmp.Diff([2]int64{int64(tt.wantPercent), tt.wantLimit}, [2]int64{int64(p), l}); diff != "" {
				t.Errorf("gcSettings (-want +got) [percent, limit]:\n%s", diff)
			}
		})
	}
	// The limit leaves room in the 32 MB RSS budget for the binary's own
	// pages and the runtime's memory outside the limit.
	if DefaultMemoryLimit > 24<<20 {
		t.Errorf("DefaultMemoryLimit = %d, want <= 24 MiB", DefaultMemoryLimit)
	}
}
