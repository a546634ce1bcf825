// Package slsa writes the SLSA v1 provenance predicate (https://slsa.dev/provenance/v1)
// of a Bazel build of this repository: what cosign attest --type slsaprovenance1 takes
// as --predicate (cosign wraps it in the in-toto statement with the image as subject).
//
// Everything in it comes from files the build has (stamp.json, go.mod, go.sum,
// tools/gosdk/toolchain.sums, .bazelversion, the base image's layout) and from the
// rule's attributes (target, --define values, compilation mode); nothing is read from
// the machine, so an unstamped predicate is the same on every machine of one kind.
package slsa

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PredicateType is the in-toto predicate type of Predicate.
const PredicateType = "https://slsa.dev/provenance/v1"

// BuildType names this project's build: `bazel build` of one target in a checkout
// of the repository, its external parameters as in ExternalParameters.
const BuildType = "https://github.com/cat-server/cat-server/tools/provenance/buildtypes/bazel@v1"

// BuilderID names the builder: whoever ran tools/bazel in a checkout (a developer's
// or CI's machine); the provenance is as trustworthy as that machine and the key that
// signs it.
const BuilderID = "https://github.com/cat-server/cat-server/tools/provenance/builders/bazel-local@v1"

// Predicate is the SLSA v1 provenance predicate.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are the inputs a person chose: the source, the target and the
// command line that builds it.
type ExternalParameters struct {
	Source    Source            `json:"source"`
	Target    string            `json:"target"`
	Command   string            `json:"command"`
	Defines   map[string]string `json:"defines,omitempty"`
	Platforms []string          `json:"platforms,omitempty"`
	Stamped   bool              `json:"stamped"`
}

// Source is the repository and, when stamped, the commit it was built from.
type Source struct {
	URI string `json:"uri"`
	// Digest is {"gitCommit": ...} when stamped, absent otherwise.
	Digest map[string]string `json:"digest,omitempty"`
	// Dirty is true when the checkout had changes to tracked files (stamped only).
	Dirty *bool `json:"dirty,omitempty"`
	// Note says why there is no commit when unstamped.
	Note string `json:"note,omitempty"`
}

// InternalParameters are settings of the build that no one passed on the command line.
type InternalParameters struct {
	CompilationMode string `json:"compilationMode"`
	GoSDKPlatform   string `json:"goSdkPlatform"`
	Bazelrc         string `json:"bazelrc"`
}

// ResourceDescriptor is in-toto's ResourceDescriptor (the fields used here).
type ResourceDescriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest"`
	MediaType   string            `json:"mediaType,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RunDetails is who built it and, when stamped, when.
type RunDetails struct {
	Builder  Builder   `json:"builder"`
	Metadata *Metadata `json:"metadata,omitempty"`
}

// Builder identifies the builder and the versions of its tools.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version"`
}

// Metadata is the build's invocation (stamped builds only: it is volatile).
type Metadata struct {
	InvocationID string `json:"invocationId,omitempty"`
	StartedOn    string `json:"startedOn,omitempty"`
	FinishedOn   string `json:"finishedOn,omitempty"`
}

// Stamp is the part of //tools/stamp:stamp's stamp.json used here.
type Stamp struct {
	Stamped      bool   `json:"stamped"`
	Revision     string `json:"revision"`
	Version      string `json:"version"`
	Dirty        *bool  `json:"dirty"`
	Created      string `json:"created"`
	InvocationID string `json:"invocationId"`
}

// ReadStamp reads stamp.json.
func ReadStamp(path string) (Stamp, error) {
	var st Stamp
	data, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("reading stamp info: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("stamp info %s: %w", path, err)
	}
	if st.Stamped && st.Version == "" {
		return st, fmt.Errorf("stamp info %s: stamped but no version", path)
	}
	return st, nil
}

// H1ToDirHash turns a go.sum hash "h1:<base64 sha256>" into in-toto's dirHash: the same
// SHA-256 in lowercase hex.
func H1ToDirHash(h1 string) (string, error) {
	b64, ok := strings.CutPrefix(h1, "h1:")
	if !ok {
		return "", fmt.Errorf("hash %q is not an h1: hash", h1)
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sum) != 32 {
		return "", fmt.Errorf("hash %q is not h1: and a base64 SHA-256", h1)
	}
	return hex.EncodeToString(sum), nil
}

// GoSumDependencies returns one descriptor per go.sum line, in go.sum's order: the
// module (uri pkg:golang/PATH@VERSION) or, for a "/go.mod" line, its go.mod alone
// (uri pkg:golang/PATH@VERSION#go.mod); digest {"dirHash": <hex of the h1 hash>}.
func GoSumDependencies(name string, data []byte) ([]ResourceDescriptor, error) {
	var deps []ResourceDescriptor
	for i, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s line %d: want MODULE VERSION HASH, got %q", name, i+1, line)
		}
		dirHash, err := H1ToDirHash(fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, i+1, err)
		}
		mod, version := fields[0], fields[1]
		d := ResourceDescriptor{
			Name:   mod + "@" + version,
			URI:    "pkg:golang/" + mod + "@" + version,
			Digest: map[string]string{"dirHash": dirHash},
		}
		if v, ok := strings.CutSuffix(version, "/go.mod"); ok {
			d.URI = "pkg:golang/" + mod + "@" + v + "#go.mod"
		}
		deps = append(deps, d)
	}
	return deps, nil
}

// GoVersion returns the Go version go.mod pins: its toolchain line (e.g. go1.26.10),
// else its go line.
func GoVersion(name string, data []byte) (string, error) {
	var goLine, toolchain string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "toolchain" {
			toolchain = f[1]
		} else if len(f) == 2 && f[0] == "go" {
			goLine = "go" + f[1]
		}
	}
	if toolchain != "" {
		return toolchain, nil
	}
	if goLine != "" {
		return goLine, nil
	}
	return "", fmt.Errorf("%s has no toolchain or go line", name)
}

// GoSDKDependency returns the Go SDK zip of goVersion for platform (e.g.
// linux-amd64) from tools/gosdk/toolchain.sums lines
// "golang.org/toolchain v0.0.1-go1.26.10.linux-amd64 sha256:<hex> h1:<base64>".
func GoSDKDependency(name string, sums []byte, goVersion, platform string) (ResourceDescriptor, error) {
	version := "v0.0.1-" + goVersion + "." + platform
	for i, line := range strings.Split(string(sums), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 4 {
			return ResourceDescriptor{}, fmt.Errorf("%s line %d: want MODULE VERSION sha256:HEX h1:HASH, got %q", name, i+1, line)
		}
		if f[1] != version {
			continue
		}
		sha, ok := strings.CutPrefix(f[2], "sha256:")
		if b, err := hex.DecodeString(sha); !ok || err != nil || len(b) != 32 {
			return ResourceDescriptor{}, fmt.Errorf("%s line %d: %q is not sha256:<64 hex digits>", name, i+1, f[2])
		}
		dirHash, err := H1ToDirHash(f[3])
		if err != nil {
			return ResourceDescriptor{}, fmt.Errorf("%s line %d: %w", name, i+1, err)
		}
		return ResourceDescriptor{
			Name:   "go-sdk",
			URI:    "pkg:golang/" + f[0] + "@" + version,
			Digest: map[string]string{"sha256": sha, "dirHash": dirHash},
			Annotations: map[string]string{
				"goVersion": goVersion,
				"platform":  platform,
			},
		}, nil
	}
	return ResourceDescriptor{}, fmt.Errorf("%s has no line for golang.org/toolchain %s (run tools/gosdk/update-sums.sh)", name, version)
}

// BaseDependency returns the base image of an OCI layout directory: the digest of
// the one manifest (or index) its index.json lists.
func BaseDependency(name, layout string) (ResourceDescriptor, error) {
	path := filepath.Join(layout, "index.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return ResourceDescriptor{}, fmt.Errorf("base %s: %w", name, err)
	}
	var idx struct {
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return ResourceDescriptor{}, fmt.Errorf("base %s: %s: %w", name, path, err)
	}
	if len(idx.Manifests) != 1 {
		return ResourceDescriptor{}, fmt.Errorf("base %s: %s lists %d manifests, want 1", name, path, len(idx.Manifests))
	}
	m := idx.Manifests[0]
	algo, hexDigest, ok := strings.Cut(m.Digest, ":")
	if b, err := hex.DecodeString(hexDigest); !ok || algo != "sha256" || err != nil || len(b) != 32 {
		return ResourceDescriptor{}, fmt.Errorf("base %s: %s: manifest digest %q is not sha256:<64 hex digits>", name, path, m.Digest)
	}
	return ResourceDescriptor{
		Name:      name,
		Digest:    map[string]string{"sha256": hexDigest},
		MediaType: m.MediaType,
	}, nil
}

// Inputs is everything a predicate is made of, already read.
type Inputs struct {
	Stamp           Stamp
	SourceURI       string
	Target          string
	Defines         map[string]string
	Platforms       []string
	CompilationMode string
	BazelVersion    string
	GoVersion       string
	GoSDK           ResourceDescriptor
	GoSum           []ResourceDescriptor
	Bases           []ResourceDescriptor
	// FinishedOn is when the predicate is written (RFC 3339), used when stamped.
	FinishedOn string
}

// Command reconstructs the bazel command line of the build: Bazel hands actions no
// command line, so this is the command that gives the same build from the same
// checkout (--stamp if stamped, the --define values the build reads, -c if not
// fastbuild, the target); other flags are .bazelrc's at that commit.
func Command(in Inputs) string {
	parts := []string{"bazel", "build"}
	if in.Stamp.Stamped {
		parts = append(parts, "--stamp")
	}
	if in.CompilationMode != "" && in.CompilationMode != "fastbuild" {
		parts = append(parts, "-c", in.CompilationMode)
	}
	keys := make([]string, 0, len(in.Defines))
	for k := range in.Defines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, "--define="+k+"="+in.Defines[k])
	}
	return strings.Join(append(parts, in.Target), " ")
}

// Build makes the predicate.
func Build(in Inputs) Predicate {
	src := Source{URI: in.SourceURI}
	var deps []ResourceDescriptor
	deps = append(deps, in.GoSum...)
	deps = append(deps, in.GoSDK)
	deps = append(deps, in.Bases...)
	var meta *Metadata
	if in.Stamp.Stamped {
		src.Digest = map[string]string{"gitCommit": in.Stamp.Revision}
		src.Dirty = in.Stamp.Dirty
		if in.Stamp.Revision == "" {
			src.Digest = nil
			src.Note = "stamped outside a git checkout: no commit"
		} else {
			deps = append(deps, ResourceDescriptor{
				Name:   "source",
				URI:    "git+" + in.SourceURI,
				Digest: map[string]string{"gitCommit": in.Stamp.Revision},
			})
		}
		meta = &Metadata{InvocationID: in.Stamp.InvocationID, StartedOn: in.Stamp.Created, FinishedOn: in.FinishedOn}
	} else {
		src.Note = "built without --stamp: no commit recorded (bazel build --stamp records it)"
	}
	defines := in.Defines
	if len(defines) == 0 {
		defines = nil
	}
	return Predicate{
		BuildDefinition: BuildDefinition{
			BuildType: BuildType,
			ExternalParameters: ExternalParameters{
				Source:    src,
				Target:    in.Target,
				Command:   Command(in),
				Defines:   defines,
				Platforms: in.Platforms,
				Stamped:   in.Stamp.Stamped,
			},
			InternalParameters: InternalParameters{
				CompilationMode: in.CompilationMode,
				GoSDKPlatform:   in.GoSDK.Annotations["platform"],
				Bazelrc:         ".bazelrc at the source commit",
			},
			ResolvedDependencies: deps,
		},
		RunDetails: RunDetails{
			Builder: Builder{
				ID:      BuilderID,
				Version: map[string]string{"bazel": in.BazelVersion, "go": in.GoVersion},
			},
			Metadata: meta,
		},
	}
}
