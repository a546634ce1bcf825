// Package evict keeps a Bazel HTTP cache directory (as served by nginx's WebDAV module:
// STORE/ac/<sha256> and STORE/cas/<sha256>) under a size cap, least recently used first.
//
// nginx never deletes: the store only grows. Recency comes from two places: the access
// log nginx writes (each successful GET or PUT of an entry, replayed onto the file's
// access time, so it does not depend on the file system's atime mount options) and the
// file's own modification and access times. Entries used within a protection window are
// never removed, so a build that is reading the cache keeps what it just looked up; at
// equal recency an action-cache entry goes before content blobs, so Bazel sees a cache
// miss (and runs the action) rather than an action result whose outputs are gone. A file
// removed while nginx sends it is still sent whole (the open file outlives its name).
package evict

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kinds of entry, in the order they are evicted at equal recency.
const (
	AC  = "ac"
	CAS = "cas"
)

// Entry is one file of the store.
type Entry struct {
	Rel  string    // path under the store, e.g. "cas/<sha256>"
	Kind string    // AC or CAS
	Size int64     // bytes on disk
	Used time.Time // last use: the latest of its access and modification times
}

// Plan returns the entries to remove so that the rest fits in target bytes: least
// recently used first, action-cache entries before content blobs at equal recency,
// never an entry used after protectAfter. It also returns the total left afterwards,
// which is above target when protected entries alone exceed it.
func Plan(entries []Entry, target int64, protectAfter time.Time) (remove []Entry, left int64) {
	for _, e := range entries {
		left += e.Size
	}
	if left <= target {
		return nil, left
	}
	order := append([]Entry(nil), entries...)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if !a.Used.Equal(b.Used) {
			return a.Used.Before(b.Used)
		}
		if a.Kind != b.Kind {
			return a.Kind == AC
		}
		return a.Rel < b.Rel
	})
	for _, e := range order {
		if left <= target {
			break
		}
		if e.Used.After(protectAfter) {
			break // everything after it is newer still
		}
		remove = append(remove, e)
		left -= e.Size
	}
	return remove, left
}

// Uses parses an nginx access log in the cache's format
// ("$msec $request_method $uri $status ...", see tools/remotecache/setup.sh) and
// returns the last successful use of each entry, keyed by its path under the store
// ("ac/<hash>", "cas/<hash>"). Lines of another shape, failed requests and paths
// outside ac/ and cas/ are skipped; bad is the number of malformed lines.
func Uses(r io.Reader) (uses map[string]time.Time, bad int, err error) {
	uses = map[string]time.Time{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			if len(f) > 0 {
				bad++
			}
			continue
		}
		msec, err := strconv.ParseFloat(f[0], 64)
		status, err2 := strconv.Atoi(f[3])
		if err != nil || err2 != nil {
			bad++
			continue
		}
		if (f[1] != "GET" && f[1] != "PUT") || status < 200 || status > 299 {
			continue
		}
		rel, ok := entryPath(f[2])
		if !ok {
			continue
		}
		t := time.UnixMilli(int64(msec * 1000))
		if t.After(uses[rel]) {
			uses[rel] = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, bad, fmt.Errorf("reading access log: %w", err)
	}
	return uses, bad, nil
}

// entryPath maps a request URI ("/ac/<hex>", "/prefix/cas/<hex>" is not served) to its
// path under the store, accepting only ac/ and cas/ with a lowercase hex name.
func entryPath(uri string) (string, bool) {
	rel := strings.TrimPrefix(uri, "/")
	kind, name, ok := strings.Cut(rel, "/")
	if !ok || (kind != AC && kind != CAS) || name == "" {
		return "", false
	}
	for _, c := range name {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return rel, true
}

// Scan lists the entries under store/ac and store/cas (missing directories are empty).
func Scan(store string) ([]Entry, error) {
	var out []Entry
	for _, kind := range []string{AC, CAS} {
		dir := filepath.Join(store, kind)
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing the cache store: %w", err)
		}
		for _, de := range ents {
			if !de.Type().IsRegular() {
				continue
			}
			info, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, de.Name()), err)
			}
			used := info.ModTime()
			if at := accessTime(info); at.After(used) {
				used = at
			}
			out = append(out, Entry{Rel: kind + "/" + de.Name(), Kind: kind, Size: diskSize(info), Used: used})
		}
	}
	return out, nil
}
