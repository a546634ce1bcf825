package specfile

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// ReadLines reads a file of one value per line (repo_tags, remote_tags,
// repository_file), dropping empty lines and surrounding whitespace (the
// macros refuse an empty or multi-line entry in a list before it gets here);
// a NUL byte or invalid UTF-8 is an error naming the file and line.
func ReadLines(field, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	var out []string
	for i, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
			return nil, fmt.Errorf("%s: %s:%d: %q holds a NUL byte or invalid UTF-8", field, path, i+1, l)
		}
		out = append(out, l)
	}
	return out, nil
}
