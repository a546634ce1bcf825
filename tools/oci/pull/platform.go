package pull

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Platform is an os/arch[/variant] triple such as linux/amd64 or
// linux/arm64/v8.
type Platform struct {
	OS, Architecture, Variant string
}

// ParsePlatform parses "os/arch" or "os/arch/variant".
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Platform{}, fmt.Errorf("invalid platform %q: want os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8", s)
	}
	for _, p := range parts {
		if p == "" {
			return Platform{}, fmt.Errorf("invalid platform %q: want os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8", s)
		}
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// defaultVariants are the variants an architecture has when none is given,
// as container runtimes normalise them: linux/arm64 is linux/arm64/v8.
var defaultVariants = map[string]string{
	"arm64": "v8",
	"arm":   "v7",
	"amd64": "v1",
}

func normalizeVariant(arch, variant string) string {
	if variant == "" {
		return defaultVariants[arch]
	}
	return variant
}

// Exactly reports whether an index entry's platform is p, compared as
// rules_oci's oci.pull compares them: os/arch[/variant] strings, so
// linux/arm64 does not select an entry with variant v8.
func (p Platform) Exactly(d *v1.Platform) bool {
	return d != nil && Platform{OS: d.OS, Architecture: d.Architecture, Variant: d.Variant} == p
}

// Matches reports whether an image config's os/arch/variant fits p (the
// check of the pulled config, which often omits the variant that its index
// entry names). The variant is compared after normalisation, so linux/arm64 matches an entry
// with variant v8 and linux/arm64/v8 matches one without a variant.
func (p Platform) Matches(os, arch, variant string) bool {
	return p.OS == os && p.Architecture == arch &&
		normalizeVariant(p.Architecture, p.Variant) == normalizeVariant(arch, variant)
}

// isAttestation reports whether an index entry is not a runnable image but
// an attestation (BuildKit stores provenance and SBOMs as image manifests
// with the platform unknown/unknown).
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

func platformOf(p *v1.Platform) string {
	if p == nil {
		return "(no platform)"
	}
	return Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}.String()
}

// availablePlatforms lists the platforms of an index's runnable entries.
func availablePlatforms(m *v1.IndexManifest) string {
	seen := map[string]bool{}
	var out []string
	for _, d := range m.Manifests {
		if isAttestation(d) {
			continue
		}
		s := platformOf(d.Platform)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
