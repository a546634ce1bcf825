// Package build assembles an image the way rules_oci 2.x's oci_image does:
// a base (or nothing) plus tar layers in the given order plus config
// changes, written as a single-image OCI layout.
package build

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/rawconfig"
	"github.com/cat-server/cat-server/tools/oci/specfile"
)

// Spec is the JSON spec of `ocitool image`, the arguments of rules_oci's
// oci_image rule. Every list and dict arrives as a file (the oci_image macro
// writes inline values to files, as upstream's does), read as upstream's
// image.sh reads it. Absent fields change nothing in the base's config.
type Spec struct {
	// Base is an OCI layout directory; empty means an empty image with OCI
	// media types, created at the Unix epoch.
	Base string `json:"base"`
	// Tars are the layers, appended in this order. Each may be a plain tar,
	// gzip (.tar.gz/.tgz) or zstd (.tar.zst/.tzst); the format is detected
	// from the content. Compressed tars are used as they are.
	Tars []string `json:"tars"`
	// TarDescriptors, if present, has one entry per tar: the descriptor
	// file (layer.Descriptor: digest, size, diff ID) that the layer tool
	// wrote with it, or "" for a tar without one. A described tar is not
	// read to be hashed, only its size is checked; the others are read in
	// full for their digest and diff ID.
	TarDescriptors []string `json:"tar_descriptors"`
	// TarLabels has one Bazel label per tar, for the history entries
	// ("bazel build LABEL"). It may be absent only when Tars is empty.
	TarLabels []string `json:"tar_labels"`
	// Entrypoint is a file with one element per line (empty lines dropped,
	// "%5Cn" standing for a newline inside an element). It replaces the
	// entrypoint and clears Cmd; an empty file sets an empty entrypoint.
	Entrypoint string `json:"entrypoint"`
	// Cmd is a file like Entrypoint; it replaces Cmd (after Entrypoint).
	Cmd string `json:"cmd"`
	// Env is a file of KEY=VALUE lines, applied in order: a key already set
	// keeps its position, a new one is appended. Values may use $VAR and
	// ${VAR}, expanded against the base env and the entries before them.
	Env string `json:"env"`
	// User is used as written.
	User string `json:"user"`
	// Workdir sets the working directory.
	Workdir string `json:"workdir"`
	// ExposedPorts is a file with a comma-separated list, stored as written
	// ("8080" stays "8080") and merged with the base's.
	ExposedPorts string `json:"exposed_ports"`
	// Volumes is a file with a comma-separated list, merged with the base's.
	Volumes string `json:"volumes"`
	// Labels is a file of KEY=VALUE lines merged onto the base's labels.
	Labels string `json:"labels"`
	// Annotations is a file of KEY=VALUE lines for the manifest.
	Annotations string `json:"annotations"`
	// OS and Architecture are required without a base and refused with
	// one (the base decides the platform); so is Variant.
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	// Created is a file holding the creation time (RFC 3339).
	Created string `json:"created"`
	// Out is the OCI layout directory to write.
	Out string `json:"out"`
	// DigestOut, if set, receives the manifest digest "sha256:...\n" (as
	// rules_oci's <name>.digest target writes it, newline-terminated).
	DigestOut string `json:"digest_out"`
}

// Epoch is the creation time of images built without a base.
var Epoch = time.Unix(0, 0).UTC()

// Build assembles the image, validates it and writes the outputs.
func Build(spec Spec) (v1.Hash, error) {
	if spec.Out == "" {
		return v1.Hash{}, errors.New(`"out" is required`)
	}
	img, err := Image(spec)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := check(img); err != nil {
		return v1.Hash{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.Write(spec.Out, img); err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.WriteDigest(spec.DigestOut, digest); err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// check validates img with validate.Image's fast mode: manifest, config and
// layer presence. Every layer here was opened from its file, which was read
// in full to compute its digest and diff ID, so a full validation (gunzip and
// hash every layer once more) would only repeat that, on every build of the
// image (bench/README.md: the image step of a code edit).
func check(img v1.Image) error {
	if err := validate.Image(img, validate.Fast); err != nil {
		return fmt.Errorf("the assembled image is invalid: %s", OneLine(err))
	}
	return nil
}

var diffField = regexp.MustCompile(`^[\s\x{a0}]*[-+][\s\x{a0}]*(\w+):`) // go-cmp mixes in non-breaking spaces

// OneLine is err's message as one sentence: validate's go-cmp diffs
// ("mismatched config content: (-ParseConfigFile(...) +ConfigFile()) ...")
// are cut to their first line, followed by the names of the fields that
// differ.
func OneLine(err error) string {
	msg := err.Error()
	first, rest, multi := strings.Cut(msg, "\n")
	if !multi {
		return msg
	}
	if i := strings.Index(first, ": (-"); i >= 0 {
		first = first[:i]
	}
	var fields []string
	seen := map[string]bool{}
	for _, l := range strings.Split(rest, "\n") {
		if m := diffField.FindStringSubmatch(l); m != nil && !seen[m[1]] {
			seen[m[1]] = true
			fields = append(fields, m[1])
		}
	}
	if len(fields) == 0 {
		return first
	}
	return fmt.Sprintf("%s (fields that differ between the in-memory and the serialised form: %s)", first, strings.Join(fields, ", "))
}

// Image assembles the image spec describes, without writing anything.
func Image(spec Spec) (v1.Image, error) {
	if len(spec.TarLabels) != len(spec.Tars) {
		return nil, fmt.Errorf(`"tar_labels" has %d entries but "tars" has %d; want one label per tar`, len(spec.TarLabels), len(spec.Tars))
	}
	base, err := baseImage(spec)
	if err != nil {
		return nil, err
	}
	baseCfg, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base config: %w", err)
	}
	created := baseCfg.Created.Time
	if spec.Base == "" {
		created = Epoch
	}
	if spec.Created != "" {
		t, err := readCreated(spec.Created)
		if err != nil {
			return nil, err
		}
		created = t
	}
	family, err := mediaFamily(base)
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.Addendum, len(spec.Tars))
	if len(spec.TarDescriptors) != 0 && len(spec.TarDescriptors) != len(spec.Tars) {
		return nil, fmt.Errorf(`"tar_descriptors" has %d entries but "tars" has %d; want one per tar ("" for none)`, len(spec.TarDescriptors), len(spec.Tars))
	}
	for i, path := range spec.Tars {
		var l v1.Layer
		var err error
		if len(spec.TarDescriptors) != 0 && spec.TarDescriptors[i] != "" {
			l, err = describedLayer(path, spec.TarDescriptors[i], family)
		} else {
			l, err = openLayer(path, family)
		}
		if err != nil {
			return nil, fmt.Errorf(`"tars"[%d]: %w`, i, err)
		}
		adds[i] = mutate.Addendum{
			Layer: l,
			History: v1.History{
				Created:   v1.Time{Time: created},
				CreatedBy: "bazel build " + spec.TarLabels[i],
			},
		}
	}
	img := base
	if len(adds) > 0 {
		if img, err = mutate.Append(base, adds...); err != nil {
			return nil, err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: created}
	if spec.Base == "" {
		cfg.OS, cfg.Architecture, cfg.Variant = spec.OS, spec.Architecture, spec.Variant
	}
	if cfg.RootFS.DiffIDs == nil {
		// rules_oci writes "diff_ids": [] for an image with no layers.
		cfg.RootFS.DiffIDs = []v1.Hash{}
	}
	if err := applyConfig(&cfg.Config, baseCfg.Config.Env, spec); err != nil {
		return nil, err
	}
	empties, err := emptyLists(base, cfg, spec)
	if err != nil {
		return nil, err
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, err
	}
	if spec.Annotations != "" {
		ann, err := readKV("annotations", spec.Annotations)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, kv := range ann {
			m[kv.Key] = kv.Value
		}
		img = mutate.Annotations(img, m).(v1.Image)
	}
	if empties.Any() {
		return rawconfig.Set(img, cfg, empties)
	}
	return img, nil
}

// emptyLists says which of the config's lists rules_oci's oci_image writes
// as an explicit []: an entrypoint or cmd set to [] (image.sh: the list
// split from an empty file), an empty history (it starts from "history": []),
// and what the base's config already held as [], unless replaced.
func emptyLists(base v1.Image, cfg *v1.ConfigFile, spec Spec) (rawconfig.Empty, error) {
	var e rawconfig.Empty
	if spec.Base != "" {
		raw, err := base.RawConfigFile()
		if err != nil {
			return e, fmt.Errorf(`"base" config: %w`, err)
		}
		if e, err = rawconfig.Of(raw); err != nil {
			return e, fmt.Errorf(`"base": %w`, err)
		}
	}
	if spec.Entrypoint != "" {
		e.Entrypoint = len(cfg.Config.Entrypoint) == 0
		e.Cmd = false // setting the entrypoint deletes Cmd
	}
	if spec.Cmd != "" {
		e.Cmd = len(cfg.Config.Cmd) == 0
	}
	e.History = len(cfg.History) == 0
	return e, nil
}

func baseImage(spec Spec) (v1.Image, error) {
	if spec.Base != "" {
		for _, f := range []struct{ name, v string }{{"os", spec.OS}, {"architecture", spec.Architecture}, {"variant", spec.Variant}} {
			if f.v != "" {
				return nil, fmt.Errorf(`%q (%q) cannot be set when there is a base image: the platform comes from the base`, f.name, f.v)
			}
		}
		img, err := ocilayout.Read(spec.Base)
		if err != nil {
			return nil, fmt.Errorf(`"base": %w`, err)
		}
		return img, nil
	}
	const example = `(e.g. "os": "linux", "architecture": "amd64")`
	switch {
	case spec.OS == "" && spec.Architecture == "":
		return nil, errors.New(`"os" and "architecture" are required when there is no base image ` + example)
	case spec.OS == "":
		return nil, errors.New(`"os" is required when there is no base image ` + example)
	case spec.Architecture == "":
		return nil, errors.New(`"architecture" is required when there is no base image ` + example)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// family is the media-type family of the image's layers.
type family int

const (
	ociFamily family = iota
	dockerFamily
)

func mediaFamily(img v1.Image) (family, error) {
	mt, err := img.MediaType()
	if err != nil {
		return 0, err
	}
	switch mt {
	case types.OCIManifestSchema1:
		return ociFamily, nil
	case types.DockerManifestSchema2:
		return dockerFamily, nil
	}
	return 0, fmt.Errorf("base manifest media type %q is neither OCI nor Docker schema 2", mt)
}

// openLayer returns the tar at path as a layer of the given family.
// Every tar is used byte for byte, as rules_oci's oci_image adds it: gzip
// and zstd tars as compressed layers, plain tars as uncompressed ones.
func openLayer(path string, fam family) (v1.Layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return layerFromFile(path, tarball.WithMediaType(gzipLayerType(fam)))
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		if fam == dockerFamily {
			return nil, fmt.Errorf("%s is zstd-compressed, but the base image uses Docker media types, which have no zstd layer type; use a gzip or plain tar", path)
		}
		return layerFromFile(path, tarball.WithMediaType(types.OCILayerZStd))
	case bytes.HasPrefix(head, []byte("BZh")), bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return nil, fmt.Errorf("%s is bzip2- or xz-compressed; layers must be plain tar, gzip or zstd", path)
	}
	if _, err := tar.NewReader(bytes.NewReader(head)).Next(); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s is neither a tar nor a gzip/zstd-compressed tar: %v", path, err)
	}
	return plainLayer(path, fam)
}

// gzipLayerType is the media type of a gzip-compressed layer in an image
// of the given family.
func gzipLayerType(fam family) types.MediaType {
	if fam == dockerFamily {
		return types.DockerLayer
	}
	return types.OCILayer
}

func layerFromFile(path string, opts ...tarball.LayerOption) (v1.Layer, error) {
	l, err := tarball.LayerFromFile(path, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return noDescriptor{l}, nil
}

// noDescriptor hides the tarball layer's Descriptor method, whose empty (not
// nil) annotations map would make the in-memory manifest differ from its
// serialised form (which validate.Image rejects).
type noDescriptor struct{ v1.Layer }

func applyConfig(c *v1.Config, _ []string, spec Spec) error {
	if spec.Entrypoint != "" {
		l, err := readList("entrypoint", spec.Entrypoint)
		if err != nil {
			return err
		}
		// An empty list is kept here as none; Image writes it as [] (see
		// emptyLists), which go-containerregistry's JSON form cannot hold.
		c.Entrypoint = nilIfEmpty(l)
		c.Cmd = nil
	}
	if spec.Cmd != "" {
		l, err := readList("cmd", spec.Cmd)
		if err != nil {
			return err
		}
		c.Cmd = nilIfEmpty(l)
	}
	if spec.Env != "" {
		env, err := readKV("env", spec.Env)
		if err != nil {
			return err
		}
		c.Env = setEnv(c.Env, env)
	}
	if spec.User != "" {
		c.User = spec.User
	}
	if spec.Workdir != "" {
		c.WorkingDir = spec.Workdir
	}
	if spec.ExposedPorts != "" {
		ports, err := readCommaList("exposed_ports", spec.ExposedPorts)
		if err != nil {
			return err
		}
		if len(ports) > 0 && c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			c.ExposedPorts[p] = struct{}{}
		}
	}
	if spec.Volumes != "" {
		vols, err := readCommaList("volumes", spec.Volumes)
		if err != nil {
			return err
		}
		if len(vols) > 0 && c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			c.Volumes[v] = struct{}{}
		}
	}
	if spec.Labels != "" {
		labels, err := readKV("labels", spec.Labels)
		if err != nil {
			return err
		}
		if len(labels) > 0 && c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range labels {
			c.Labels[kv.Key] = kv.Value
		}
	}
	return nil
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// setEnv applies vars in order to env: an existing variable keeps its
// position, a new one is appended. Each value is expanded against env as it
// stands when the entry is applied (the base env and the entries before).
func setEnv(env []string, vars []specfile.KeyValue) []string {
	out := append([]string{}, env...)
	for _, kv := range vars {
		lookup := map[string]string{}
		for _, e := range out {
			k, v, _ := strings.Cut(e, "=")
			lookup[k] = v
		}
		entry := kv.Key + "=" + Expand(kv.Value, lookup)
		replaced := false
		for i, old := range out {
			if k, _, _ := strings.Cut(old, "="); k == kv.Key {
				out[i] = entry
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, entry)
		}
	}
	return out
}

// Expand replaces variable references in s with vars[NAME] ("" if unset),
// with the pattern rules_oci's image.sh uses: "$", an optional "{", a name
// of letters, digits and "_", an optional "}". A "$" not followed by a name
// is kept as it is.
func Expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '{' {
			j++
		}
		start := j
		for j < len(s) && isNameChar(s[j]) {
			j++
		}
		if j == start {
			b.WriteByte('$')
			continue
		}
		name := s[start:j]
		if j < len(s) && s[j] == '}' {
			j++
		}
		b.WriteString(vars[name])
		i = j - 1
	}
	return b.String()
}

func isNameChar(c byte) bool { return c == '_' || isAlpha(c) || c >= '0' && c <= '9' }

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
