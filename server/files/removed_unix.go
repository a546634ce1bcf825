//go:build unix

package files

import (
	"io/fs"
	"syscall"
)

// removed reports whether fi, of an open directory, has no links left:
// the directory was removed while open.
func removed(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
