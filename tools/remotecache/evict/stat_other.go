//go:build !linux

package evict

import (
	"io/fs"
	"time"
)

// accessTime is unknown outside Linux: recency comes from the access log and mtime.
func accessTime(fs.FileInfo) time.Time { return time.Time{} }

// diskSize is the file's length outside Linux.
func diskSize(info fs.FileInfo) int64 { return info.Size() }
