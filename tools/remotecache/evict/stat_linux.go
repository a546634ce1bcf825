package evict

import (
	"io/fs"
	"syscall"
	"time"
)

// accessTime is the file's access time (zero when unknown).
func accessTime(info fs.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	return time.Time{}
}

// diskSize is the space the file takes on disk (its blocks), at least its length.
func diskSize(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > info.Size() {
		return st.Blocks * 512
	}
	return info.Size()
}
