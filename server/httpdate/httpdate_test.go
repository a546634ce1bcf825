package httpdate

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValue(t *testing.T) {
	base := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"start of a second", base, "Tue, 24 Nov 2026 14:00:00 GMT"},
		{"same second, later", base.Add(999 * time.Millisecond), "Tue, 24 Nov 2026 14:00:00 GMT"},
		{"next second", base.Add(time.Second), "Tue, 24 Nov 2026 14:00:01 GMT"},
		{"another zone, same instant", base.Add(2 * time.Second).In(time.FixedZone("X", 5*3600)), "Tue, 24 Nov 2026 14:00:02 GMT"},
		{"back in time (clock step)", base, "Tue, 24 Nov 2026 14:00:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Value(tt.now)
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("Value(%v) (-want +got):\n%s", tt.now, diff)
			}
			if want := tt.now.UTC().Format(http.TimeFormat); got[0] != want {
				t.Errorf("Value = %q, http.TimeFormat gives %q", got[0], want)
			}
		})
	}
}

func TestValueShared(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	a, b := Value(now), Value(now.Add(time.Millisecond))
	if &a[0] != &b[0] {
		t.Error("two calls within one second returned different slices; want the cached one")
	}
	h := http.Header{}
	Set(h, now)
	h.Add("Date", "extra")
	if diff := cmp.Diff([]string{"Tue, 24 Nov 2026 15:00:00 GMT"}, Value(now)); diff != "" {
		t.Errorf("Header.Add changed the shared value (-want +got):\n%s", diff)
	}
}

func BenchmarkValue(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Value(time.Now())
	}
}
