package build

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/oci/specfile"
)

// readList reads a file of one element per line, as rules_oci's image.sh
// reads entrypoint and cmd files: empty lines are dropped and "%5Cn" inside
// an element stands for a newline. An empty file is an empty list.
func readList(field, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", field, err)
	}
	out := []string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		out = append(out, strings.ReplaceAll(line, "%5Cn", "\n"))
	}
	return out, nil
}

// readCommaList reads a file holding one comma-separated list (exposed
// ports, volumes). Elements are kept as written; a trailing newline of the
// file and empty elements are dropped.
func readCommaList(field, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", field, err)
	}
	var out []string
	for _, e := range strings.Split(strings.TrimRight(string(b), "\r\n"), ",") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// readKV reads a file of KEY=VALUE lines (see specfile.ReadKeyValues).
func readKV(field, path string) ([]specfile.KeyValue, error) {
	return specfile.ReadKeyValues(field, path)
}

// readCreated reads the file holding the image's creation time.
func readCreated(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf(`"created": %w`, err)
	}
	s := strings.TrimSpace(string(b))
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf(`"created": %s holds %q, not an RFC 3339 time such as "2024-01-02T15:04:05Z"`, path, s)
	}
	return t.UTC(), nil
}
