//go:build !linux

package files

import (
	"net/http"
	"os"
)

// The small-file cache (cache_linux.go) revalidates every hit with Linux's
// fstatat and compares Linux's stat fields. Elsewhere there is no cache:
// newCache returns nil and every file is opened and served from disk.
type cache struct{}

type entry struct{}

func newCache(*os.Root, int64, int64) (*cache, error) { return nil, nil }

func (c *cache) get(string) *entry { return nil }

func (c *cache) load(string, *os.File, os.FileInfo, http.Header) *entry { return nil }

func (e *entry) serve(http.ResponseWriter, *http.Request) {}
