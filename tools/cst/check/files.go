package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
)

// FileOptions are what a driver supplies to fileExistenceTests.
type FileOptions struct {
	// Env expands $VAR and ${VAR} in paths: the image env with globalEnvVars over it.
	Env map[string]string
	// NoOwnership is upstream's tar driver: it cannot report owners, so a test that
	// sets uid or gid fails.
	NoOwnership bool
}

// FileExistence runs fileExistenceTests as upstream's docker driver does, with no
// env for $VAR expansion.
func FileExistence(file string, tests []config.FileExistenceTest, root *imagefs.FS) []Result {
	return FileExistenceWith(file, tests, root, FileOptions{})
}

// FileExistenceWith runs fileExistenceTests against the merged filesystem, with
// container-structure-test's verdicts: $VAR in the path is expanded from opts.Env, a
// relative path is taken from /, a symlink is checked as the link itself (its
// directories are followed), permissions compare with Go's FileMode notation, and a
// uid or gid of -1 (or none) is not checked.
func FileExistenceWith(file string, tests []config.FileExistenceTest, root *imagefs.FS, opts FileOptions) []Result {
	var results []Result
	for _, t := range tests {
		r := Result{File: file, Name: t.Name}
		p := os.Expand(t.Path, func(k string) string { return opts.Env[k] })
		e, err := root.Lstat(p)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.failMsg("path", "%v", err)
			results = append(results, r)
			continue
		}
		shown := t.Path
		if p != t.Path {
			shown = fmt.Sprintf("%s (%s)", t.Path, p)
		}
		switch {
		case !t.Exists() && exists:
			r.fail("shouldExist", fmt.Sprintf("%s not to exist", shown), fmt.Sprintf("%s %s", imagefs.GoMode(e.Header), p))
		case !t.Exists():
		case !exists:
			r.fail("shouldExist", fmt.Sprintf("%s to exist", shown), "nothing at that path in the merged filesystem")
		default:
			h := e.Header
			if t.Permissions != "" {
				if goStyle := imagefs.GoMode(h); t.Permissions != goStyle {
					got := fmt.Sprintf("%q (mode %04o)", goStyle, h.Mode&0o7777)
					if t.Permissions == imagefs.LsMode(h) {
						got += "; the expected value is ls notation, container-structure-test compares Go's FileMode notation"
					}
					r.fail("permissions", fmt.Sprintf("%q", t.Permissions), got)
				}
			}
			uid, gid := -1, -1
			if t.UID != nil {
				uid = *t.UID
			}
			if t.GID != nil {
				gid = *t.GID
			}
			switch {
			case (uid != -1 || gid != -1) && opts.NoOwnership:
				r.failMsg("uid", "the tar driver cannot check ownership of %s (use driver docker, or leave uid and gid out)", p)
			default:
				if uid != -1 && uid != h.Uid {
					r.fail("uid", fmt.Sprint(uid), fmt.Sprint(h.Uid))
				}
				if gid != -1 && gid != h.Gid {
					r.fail("gid", fmt.Sprint(gid), fmt.Sprint(h.Gid))
				}
			}
			if t.IsExecutableBy != "" {
				bits, ok := map[string]int64{"owner": 0o100, "group": 0o010, "other": 0o001, "any": 0o111}[t.IsExecutableBy]
				switch {
				case !ok:
					r.failMsg("isExecutableBy", "%s not recognised as a valid option (owner, group, other, any)", t.IsExecutableBy)
				case h.Mode&bits == 0:
					r.fail("isExecutableBy", fmt.Sprintf("%s executable by %s", p, t.IsExecutableBy), imagefs.GoMode(h))
				}
			}
		}
		results = append(results, r)
	}
	return results
}

// EnvMap is an image env (KEY=VALUE list) with overrides on top, as a map.
func EnvMap(env []string, overrides []config.EnvVar) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	for _, o := range overrides {
		m[o.Key] = o.Value
	}
	return m
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
