package files

import (
	"net/url"
	"path/filepath"
	"strings"
)

// CleanPath maps an escaped URL path (as returned by url.URL.EscapedPath)
// to a slash-separated path relative to the served root, suitable for
// os.Root. It returns ok=false for any path that must not be served:
//
//   - not starting with "/";
//   - encoded slashes, backslashes or NULs (%2F, %5C, %00), in any case;
//   - invalid percent-encoding;
//   - decoded backslashes or NUL bytes;
//   - empty segments ("//"), except a single trailing slash;
//   - any segment starting with '.', which covers ".", ".." and dotfiles.
//
// The root itself is returned as ".". Percent-decoding is applied exactly
// once, so "%252e" names a literal "%2e" inside the root. Note that
// containment is ultimately enforced by os.Root, not by this function.
func CleanPath(escaped string) (rel string, ok bool) {
	if !strings.HasPrefix(escaped, "/") {
		return "", false
	}
	lower := strings.ToLower(escaped)
	for _, bad := range []string{"%2f", "%5c", "%00"} {
		if strings.Contains(lower, bad) {
			return "", false
		}
	}
	p, err := url.PathUnescape(escaped)
	if err != nil || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	p = strings.TrimSuffix(p[1:], "/")
	if p == "" {
		return ".", true
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg[0] == '.' {
			return "", false
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return "", false
	}
	return p, true
}
