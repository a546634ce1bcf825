// Package status reads Bazel's workspace status files (stable-status.txt and
// volatile-status.txt, written from the output of --workspace_status_command) and
// turns them into the project's stamp info and stamped templates.
//
// The keys this project's tools/stamp/workspace_status.sh writes:
//
//	STABLE_GIT_COMMIT        the commit checked out ("" outside a git checkout)
//	STABLE_GIT_DIRTY         "true" when tracked files differ from it, else "false"
//	STABLE_VERSION           the VERSION file's first line, else `git describe --tags --always`
//	STABLE_VERSION_TAG       STABLE_VERSION made into a valid OCI tag (for //image:stamped_tags)
//	BUILD_TIMESTAMP_RFC3339  the build's start, RFC 3339 in UTC (volatile)
//	BUILD_INVOCATION_ID      a random UUID per bazel command (volatile)
//
// Bazel adds its own (BUILD_EMBED_LABEL, BUILD_HOST, BUILD_USER, BUILD_TIMESTAMP);
// Info takes none of the machine-specific ones.
package status

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Keys of the workspace status this package reads.
const (
	KeyCommit       = "STABLE_GIT_COMMIT"
	KeyDirty        = "STABLE_GIT_DIRTY"
	KeyVersion      = "STABLE_VERSION"
	KeyVersionTag   = "STABLE_VERSION_TAG"
	KeyCreated      = "BUILD_TIMESTAMP_RFC3339"
	KeyInvocationID = "BUILD_INVOCATION_ID"
	KeyBazelSeconds = "BUILD_TIMESTAMP" // Bazel's own: seconds since the epoch.
)

// Status is the merged content of the status files: key => value.
type Status map[string]string

// Parse reads one status file: lines "KEY VALUE" (the value may be empty or hold
// spaces). name is the file's name for errors.
func Parse(name string, data []byte) (Status, error) {
	st := Status{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if key == "" {
			return nil, fmt.Errorf("%s line %d: no key before the value", name, n)
		}
		st[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return st, nil
}

// ReadFiles reads and merges status files (stable first, then volatile); a key in a
// later file wins.
func ReadFiles(paths ...string) (Status, error) {
	st := Status{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading workspace status: %w", err)
		}
		one, err := Parse(p, data)
		if err != nil {
			return nil, err
		}
		for k, v := range one {
			st[k] = v
		}
	}
	return st, nil
}

// Info is stamp.json. Unstamped it is {"stamped": false} and nothing else.
type Info struct {
	Stamped      bool   `json:"stamped"`
	Revision     string `json:"revision,omitempty"`
	Version      string `json:"version,omitempty"`
	Dirty        *bool  `json:"dirty,omitempty"`
	Created      string `json:"created,omitempty"`
	InvocationID string `json:"invocationId,omitempty"`
}

// Unstamped is the Info of a build without --stamp.
func Unstamped() Info { return Info{} }

// InfoOf returns the stamp info of a stamped build's status. The version is
// required; created comes from BUILD_TIMESTAMP_RFC3339, else from Bazel's
// BUILD_TIMESTAMP.
func InfoOf(st Status) (Info, error) {
	version := st[KeyVersion]
	if version == "" {
		return Info{}, fmt.Errorf("workspace status has no %s: is build --workspace_status_command=tools/stamp/workspace_status.sh in .bazelrc?", KeyVersion)
	}
	dirty := false
	switch d := st[KeyDirty]; d {
	case "true":
		dirty = true
	case "false", "":
	default:
		return Info{}, fmt.Errorf("workspace status %s is %q, want true or false", KeyDirty, d)
	}
	created, err := createdOf(st)
	if err != nil {
		return Info{}, err
	}
	return Info{
		Stamped:      true,
		Revision:     st[KeyCommit],
		Version:      version,
		Dirty:        &dirty,
		Created:      created,
		InvocationID: st[KeyInvocationID],
	}, nil
}

func createdOf(st Status) (string, error) {
	if c := st[KeyCreated]; c != "" {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return "", fmt.Errorf("workspace status %s is %q, not RFC 3339", KeyCreated, c)
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	if s := st[KeyBazelSeconds]; s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("workspace status %s is %q, not seconds since the epoch", KeyBazelSeconds, s)
		}
		return time.Unix(sec, 0).UTC().Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("workspace status has neither %s nor %s", KeyCreated, KeyBazelSeconds)
}

var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// Fill replaces every {{KEY}} in s with the status value of KEY; a key the status
// lacks is an error naming it.
func Fill(s string, st Status) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		key := m[2 : len(m)-2]
		v, ok := st[key]
		if !ok {
			missing = append(missing, key)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("stamp_substitutions name %s, which the workspace status does not have", strings.Join(missing, ", "))
	}
	return out, nil
}

// Substitution is one search => replacement pair of expand_template.
type Substitution struct {
	From, To string
}

// Expand applies the substitutions to the template, in order, each to every
// occurrence (as Bazel's ctx.actions.expand_template). With a status (stamped),
// the stamp substitutions are filled from it and override substitutions of the
// same key; without one they are ignored.
func Expand(template string, subs, stampSubs []Substitution, st Status) (string, error) {
	all := append([]Substitution(nil), subs...)
	if st != nil {
		for _, s := range stampSubs {
			to, err := Fill(s.To, st)
			if err != nil {
				return "", fmt.Errorf("stamp substitution of %q: %w", s.From, err)
			}
			replaced := false
			for i := range all {
				if all[i].From == s.From {
					all[i].To, replaced = to, true
				}
			}
			if !replaced {
				all = append(all, Substitution{From: s.From, To: to})
			}
		}
	}
	out := template
	for _, s := range all {
		if s.From == "" {
			return "", fmt.Errorf("a substitution has an empty key")
		}
		out = strings.ReplaceAll(out, s.From, s.To)
	}
	return out, nil
}
