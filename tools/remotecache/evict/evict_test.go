package evict

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestPlan(t *testing.T) {
	e := func(rel string, size int64, min int) Entry {
		kind, _, _ := strings.Cut(rel, "/")
		return Entry{Rel: rel, Kind: kind, Size: size, Used: at(min)}
	}
	for _, tc := range []struct {
		name     string
		entries  []Entry
		target   int64
		protect  int // minutes after t0
		want     []string
		wantLeft int64
	}{
		{"under target: nothing", []Entry{e("ac/1", 10, 0), e("cas/2", 10, 1)}, 20, 100, nil, 20},
		{"oldest first", []Entry{e("cas/new", 10, 5), e("cas/old", 10, 1), e("cas/mid", 10, 3)}, 15, 100,
			[]string{"cas/old", "cas/mid"}, 10},
		{"ac before cas at equal recency", []Entry{e("cas/a", 10, 1), e("ac/b", 10, 1), e("cas/c", 10, 9)}, 20, 100,
			[]string{"ac/b"}, 20},
		{"stops once under target", []Entry{e("cas/a", 100, 1), e("cas/b", 1, 2), e("cas/c", 1, 3)}, 5, 100,
			[]string{"cas/a"}, 2},
		{"protected entries stay even over target", []Entry{e("cas/a", 10, 1), e("cas/b", 10, 20), e("ac/c", 10, 30)}, 5, 10,
			[]string{"cas/a"}, 20},
		{"everything protected", []Entry{e("cas/a", 10, 11), e("cas/b", 10, 12)}, 5, 10, nil, 20},
		{"target zero removes all unprotected", []Entry{e("ac/a", 1, 1), e("cas/b", 1, 1)}, 0, 100,
			[]string{"ac/a", "cas/b"}, 0},
		{"empty store", nil, 0, 0, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rm, left := Plan(tc.entries, tc.target, at(tc.protect))
			var got []string
			for _, r := range rm {
				got = append(got, r.Rel)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if left != tc.wantLeft {
				t.Errorf("left %d, want %d", left, tc.wantLeft)
			}
		})
	}
}

func TestUses(t *testing.T) {
	sec := func(min int) string { // nginx's $msec: seconds with milliseconds
		u := at(min).UnixMilli()
		return fmt.Sprintf("%d.%03d", u/1000, u%1000)
	}
	for _, tc := range []struct {
		name    string
		log     string
		want    map[string]time.Time
		wantBad int
	}{
		{"get and put", sec(1) + " GET /cas/ab12 200 10 -\n" + sec(2) + " PUT /ac/cd34 201 0 ci\n",
			map[string]time.Time{"cas/ab12": at(1), "ac/cd34": at(2)}, 0},
		{"latest use wins", sec(5) + " GET /cas/ab 200 1 -\n" + sec(3) + " GET /cas/ab 200 1 -\n",
			map[string]time.Time{"cas/ab": at(5)}, 0},
		{"misses and denials do not count", sec(1) + " GET /cas/ab 404 0 -\n" + sec(1) + " PUT /ac/cd 401 0 x\n",
			map[string]time.Time{}, 0},
		{"other methods and paths skipped", sec(1) + " DELETE /cas/ab 204 0 ci\n" + sec(1) + " GET /index.html 200 5 -\n" +
			sec(1) + " GET /cas/../etc 200 5 -\n" + sec(1) + " GET /cas/ABC 200 5 -\n" + sec(1) + " GET /cas/ 200 5 -\n",
			map[string]time.Time{}, 0},
		{"malformed lines counted", "garbage\n\nx GET /cas/ab 200\n" + sec(1) + " GET /cas/ab OK\n" + sec(4) + " GET /cas/ab 200 1 -\n",
			map[string]time.Time{"cas/ab": at(4)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, bad, err := Uses(strings.NewReader(tc.log))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("uses (-want +got):\n%s", diff)
			}
			if bad != tc.wantBad {
				t.Errorf("bad lines %d, want %d", bad, tc.wantBad)
			}
		})
	}
}
