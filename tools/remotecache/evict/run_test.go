package evict

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// store writes entries (rel -> size) with the given last-use time as atime and mtime.
func store(t *testing.T, dir string, files map[string]int, used map[string]time.Time) {
	t.Helper()
	for rel, size := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, used[rel], used[rel]); err != nil {
			t.Fatal(err)
		}
	}
}

func left(t *testing.T, dir string) []string {
	t.Helper()
	es, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Rel)
	}
	sort.Strings(out)
	return out
}

func logLine(min int, method, rel string, status int) string {
	u := at(min).UnixMilli()
	return fmt.Sprintf("%d.%03d %s /%s %d 0 -\n", u/1000, u%1000, method, rel, status)
}

func TestRun(t *testing.T) {
	const blk = 4096 // one block each, so disk size == length
	files := map[string]int{"ac/01": blk, "cas/02": blk, "cas/03": blk, "cas/04": blk}
	used := map[string]time.Time{"ac/01": at(1), "cas/02": at(2), "cas/03": at(3), "cas/04": at(4)}
	for _, tc := range []struct {
		name    string
		log     string // access log contents before the pass
		cap     int64
		target  int64
		protect time.Duration
		want    []string
	}{
		{"under cap: nothing removed", "", 4 * blk, 2 * blk, 0, []string{"ac/01", "cas/02", "cas/03", "cas/04"}},
		{"over cap: down to target, oldest first", "", 3 * blk, 2 * blk, 0, []string{"cas/03", "cas/04"}},
		{"access log makes an old entry recent", logLine(10, "GET", "cas/02", 200), 3 * blk, 2 * blk, 0,
			[]string{"cas/02", "cas/04"}},
		{"a 404 in the log does not", logLine(10, "GET", "cas/02", 404), 3 * blk, 2 * blk, 0,
			[]string{"cas/03", "cas/04"}},
		{"recently used entries are protected", "", 3 * blk, 1 * blk, 7 * time.Minute, // now = at(10): protects after at(3)
			[]string{"cas/04"}},
		{"protection wins over the target", logLine(9, "GET", "ac/01", 200) + logLine(9, "GET", "cas/02", 200), 3 * blk, 1 * blk, 5 * time.Minute,
			[]string{"ac/01", "cas/02"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := filepath.Join(dir, "store")
			store(t, st, files, used)
			lg := filepath.Join(dir, "cache.log")
			if err := os.WriteFile(lg, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Run(Config{Store: st, Log: lg, State: filepath.Join(dir, "state"), Cap: tc.cap, Target: tc.target,
				Protect: tc.protect, Now: at(10)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, left(t, st)); diff != "" {
				t.Errorf("left in the store (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunLogOffset(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	store(t, st, map[string]int{"cas/0a": 10, "cas/0b": 10}, map[string]time.Time{"cas/0a": at(1), "cas/0b": at(1)})
	lg, state := filepath.Join(dir, "cache.log"), filepath.Join(dir, "state")
	c := Config{Store: st, Log: lg, State: state, Cap: 1 << 40, Target: 1 << 40, Now: at(10)}
	write := func(s string, appendTo bool) {
		flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if appendTo {
			flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		f, err := os.OpenFile(lg, flag, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	pass := func() int {
		r, err := Run(c)
		if err != nil {
			t.Fatal(err)
		}
		return r.LogUses
	}
	full := logLine(5, "GET", "cas/0a", 200)
	write(full+full[:10], false) // a line nginx is still writing
	if n := pass(); n != 1 {
		t.Errorf("first pass: %d uses, want 1", n)
	}
	write(full[10:]+logLine(6, "GET", "cas/0b", 200), true)
	if n := pass(); n != 1 { // cas/0a again at(5): no newer; cas/0b at(6)
		t.Errorf("second pass: %d uses, want 1 (the half line read whole, once)", n)
	}
	if n := pass(); n != 0 {
		t.Errorf("third pass, nothing new: %d uses, want 0", n)
	}
	write(logLine(7, "GET", "cas/0a", 200), false) // rotated: shorter than the offset
	if n := pass(); n != 1 {
		t.Errorf("after rotation: %d uses, want 1", n)
	}
	if err := os.WriteFile(state, []byte("nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(c); err == nil {
		t.Error("a corrupt state file: no error")
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, c := range []Config{{Store: t.TempDir(), Cap: 0, Target: 0}, {Store: t.TempDir(), Cap: 10, Target: 20}} {
		if _, err := Run(c); err == nil {
			t.Errorf("Run(%+v): no error", c)
		}
	}
}
