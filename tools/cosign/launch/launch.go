// Package launch is what rules_oci's cosign_sign and cosign_attest scripts do,
// in Go: read the image's digest from its OCI layout, take the repository from
// --repository X / --repository=X (the last one wins; the rule's attribute
// comes first, so the command line overrides it), and build the cosign command
// `cosign sign|attest REPOSITORY@DIGEST ARGS...` with every other argument in
// its order.
package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoRepository is upstream's message when neither the rule nor the command
// line names a repository (cosign/private/sign.sh.tpl, attest.sh.tpl).
var ErrNoRepository = errors.New("ERROR: repository not set. Please pass --repository flag or set the 'repository' attribute in the rule.")

// Split takes the repository out of args and returns it with the other
// arguments, in order.
func Split(args []string) (repository string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--repository":
			if i+1 >= len(args) {
				return "", nil, errors.New("--repository needs a value: --repository REGISTRY/REPOSITORY")
			}
			repository = args[i+1]
			i++
		case strings.HasPrefix(a, "--repository="):
			repository = strings.TrimPrefix(a, "--repository=")
		default:
			rest = append(rest, a)
		}
	}
	if repository == "" {
		return "", nil, ErrNoRepository
	}
	return repository, rest, nil
}

// Digest returns the digest of the one manifest the OCI layout at dir lists
// in its index.json (upstream: jq -r '.manifests[].digest').
func Digest(dir string) (string, error) {
	file := filepath.Join(dir, "index.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the image's OCI layout: %w", err)
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return "", fmt.Errorf("%s: not an OCI index: %v", file, err)
	}
	if len(idx.Manifests) != 1 {
		return "", fmt.Errorf("%s: manifests: want exactly one (the image or index to sign), got %d", file, len(idx.Manifests))
	}
	d := idx.Manifests[0].Digest
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s: manifests[0].digest %q is not a sha256 digest", file, d)
	}
	return d, nil
}

// Command returns cosign's arguments for verb ("sign" or "attest") on the
// image in layout, given the script's arguments (the rule's fixed ones, then
// the user's).
func Command(verb, layout string, args []string) ([]string, error) {
	if verb != "sign" && verb != "attest" {
		return nil, fmt.Errorf("unknown cosign command %q: want sign or attest", verb)
	}
	repository, rest, err := Split(args)
	if err != nil {
		return nil, err
	}
	digest, err := Digest(layout)
	if err != nil {
		return nil, err
	}
	return append([]string{verb, repository + "@" + digest}, rest...), nil
}

// NotFound is the message when cosign is not on PATH.
func NotFound(err error) error {
	return fmt.Errorf("cosign not found on PATH (%v): install Debian's cosign package (tools/provision/install-test-deps.sh does, from sid), or put a cosign 3.x binary on PATH", err)
}
