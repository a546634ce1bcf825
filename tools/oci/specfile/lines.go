package specfile

import (
	"fmt"
	"os"
	"strings"
)

// ReadLines reads a file of one value per line (repo_tags, remote_tags,
// repository_file), dropping empty lines and surrounding whitespace.
func ReadLines(field, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}
