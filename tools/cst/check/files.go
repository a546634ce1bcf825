package check

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
)

// FileExistence runs fileExistenceTests against the merged filesystem.
//
// The path is resolved like stat(2) inside the image root: symlinks are
// followed, including the last one — unless the expected permissions
// describe a symlink ("lrwxrwxrwx"), in which case the link itself is
// checked.
func FileExistence(file string, tests []config.FileExistenceTest, root *imagefs.FS) []Result {
	var results []Result
	for _, t := range tests {
		r := Result{File: file, Name: t.Name}
		lookup := root.Stat
		if strings.HasPrefix(t.Permissions, "l") || strings.HasPrefix(t.Permissions, "L") {
			lookup = root.Lstat
		}
		e, err := lookup(t.Path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.failMsg("path", "%v", err)
			results = append(results, r)
			continue
		}
		switch {
		case !t.Exists() && exists:
			r.fail("shouldExist", fmt.Sprintf("%s not to exist", t.Path), fmt.Sprintf("%s %s", e.Mode(), t.Path))
		case !t.Exists():
		case !exists:
			r.fail("shouldExist", fmt.Sprintf("%s to exist", t.Path), "nothing at that path in the merged filesystem")
		default:
			h := e.Header
			if t.Permissions != "" {
				ls, goStyle := imagefs.LsMode(h), imagefs.GoMode(h)
				if t.Permissions != ls && t.Permissions != goStyle {
					r.fail("permissions", fmt.Sprintf("%q", t.Permissions), fmt.Sprintf("%q (mode %04o)", ls, h.Mode&0o7777))
				}
			}
			if t.UID != nil && *t.UID != h.Uid {
				r.fail("uid", fmt.Sprint(*t.UID), fmt.Sprint(h.Uid))
			}
			if t.GID != nil && *t.GID != h.Gid {
				r.fail("gid", fmt.Sprint(*t.GID), fmt.Sprint(h.Gid))
			}
			if t.IsExecutableBy != "" {
				bits := map[string]int64{"owner": 0o100, "group": 0o010, "other": 0o001, "any": 0o111}[t.IsExecutableBy]
				if h.Mode&bits == 0 {
					r.fail("isExecutableBy", fmt.Sprintf("%s executable by %s", t.Path, t.IsExecutableBy), imagefs.LsMode(h))
				}
			}
		}
		results = append(results, r)
	}
	return results
}

// FileContent runs fileContentTests against the merged filesystem.
func FileContent(file string, tests []config.FileContentTest, root *imagefs.FS) []Result {
	var results []Result
	for _, t := range tests {
		r := Result{File: file, Name: t.Name}
		content, err := root.ReadFile(t.Path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.fail("path", fmt.Sprintf("a file at %s", t.Path), "nothing at that path in the merged filesystem")
			} else {
				r.failMsg("path", "%v", err)
			}
			results = append(results, r)
			continue
		}
		r.Failures = MatchAll("expectedContents", t.ExpectedContents, "excludedContents", t.ExcludedContents, "content of "+t.Path, string(content))
		results = append(results, r)
	}
	return results
}
