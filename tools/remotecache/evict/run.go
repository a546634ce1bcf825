package evict

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
)

// Config is one eviction pass.
type Config struct {
	Store   string        // the directory nginx serves (holds ac/ and cas/)
	Log     string        // nginx's access log for the cache; "" = file times only
	State   string        // where the read offset in Log is kept between passes
	Cap     int64         // bytes: a pass starts removing when the store is above it
	Target  int64         // bytes: and removes down to this (<= Cap)
	Protect time.Duration // entries used within this long before Now are kept
	Now     time.Time
}

// Result says what a pass did.
type Result struct {
	Before, After int64 // bytes in the store
	Entries       int   // entries before the pass
	Removed       int
	LogUses       int // entries whose recency the access log updated
	BadLogLines   int
}

// Run replays the new part of the access log onto the entries' access times, then, if
// the store is above Cap, removes least recently used entries down to Target.
func Run(c Config) (Result, error) {
	var r Result
	if c.Cap <= 0 || c.Target <= 0 || c.Target > c.Cap {
		return r, fmt.Errorf("cap %d and target %d: want 0 < target <= cap", c.Cap, c.Target)
	}
	if c.Log != "" {
		n, bad, err := replayLog(c.Store, c.Log, c.State)
		if err != nil {
			return r, err
		}
		r.LogUses, r.BadLogLines = n, bad
	}
	entries, err := Scan(c.Store)
	if err != nil {
		return r, err
	}
	r.Entries = len(entries)
	for _, e := range entries {
		r.Before += e.Size
	}
	r.After = r.Before
	if r.Before <= c.Cap {
		return r, nil
	}
	remove, _ := Plan(entries, c.Target, c.Now.Add(-c.Protect))
	for _, e := range remove {
		err := os.Remove(filepath.Join(c.Store, filepath.FromSlash(e.Rel)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("evicting %s: %w", e.Rel, err)
		}
		r.Removed++
		r.After -= e.Size
	}
	return r, nil
}

// replayLog reads the access log from the offset saved in state, sets each used entry's
// access time to its last use, and saves the new offset. A log shorter than the saved
// offset was rotated or truncated: it is read from the start.
func replayLog(store, log, state string) (int, int, error) {
	f, err := os.Open(log)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil // nothing logged yet
	}
	if err != nil {
		return 0, 0, fmt.Errorf("opening the access log: %w", err)
	}
	defer f.Close()
	var off int64
	if state != "" {
		b, err := os.ReadFile(state)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return 0, 0, fmt.Errorf("reading the eviction state: %w", err)
		default:
			off, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil || off < 0 {
				return 0, 0, fmt.Errorf("eviction state %s: want a byte offset, got %q", state, strings.TrimSpace(string(b)))
			}
		}
	}
	info, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the access log: %w", err)
	}
	if info.Size() < off {
		off = 0
	}
	// Read whole lines only: a line nginx is still writing is read next time.
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, fmt.Errorf("reading the access log: %w", err)
	}
	if i := strings.LastIndexByte(string(buf), '\n'); i >= 0 {
		buf = buf[:i+1]
	} else {
		buf = buf[:0]
	}
	uses, bad, err := Uses(strings.NewReader(string(buf)))
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for rel, t := range uses {
		p := filepath.Join(store, filepath.FromSlash(rel))
		fi, err := os.Stat(p)
		if err != nil {
			continue // evicted or never stored (e.g. a 200 for a file since removed)
		}
		if t.After(accessTime(fi)) {
			if err := os.Chtimes(p, t, fi.ModTime()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, 0, fmt.Errorf("recording the last use of %s: %w", rel, err)
			}
			n++
		}
	}
	if state != "" {
		if err := atomicfile.WriteBytes(state, 0o644, []byte(strconv.FormatInt(off+int64(len(buf)), 10)+"\n")); err != nil {
			return 0, 0, fmt.Errorf("saving the eviction state: %w", err)
		}
	}
	return n, bad, nil
}
