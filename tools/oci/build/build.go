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
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

// Spec is the JSON spec of `ocitool image`. Absent and empty fields change
// nothing in the base's config, except as noted.
type Spec struct {
	// Base is an OCI layout directory; empty means an empty image with OCI
	// media types, created at the Unix epoch.
	Base string `json:"base"`
	// Tars are the layers, appended in this order. Each may be a plain tar,
	// gzip (.tar.gz/.tgz) or zstd (.tar.zst); the format is detected from
	// the content. Compressed tars are used as they are.
	Tars []string `json:"tars"`
	// TarLabels has one Bazel label per tar, for the history entries
	// ("bazel build LABEL"). It may be absent only when Tars is empty.
	TarLabels []string `json:"tar_labels"`
	// Entrypoint, when not null, replaces the entrypoint and clears Cmd
	// (unless Cmd is given too). Cmd, when not null, replaces Cmd.
	Entrypoint *[]string `json:"entrypoint"`
	Cmd        *[]string `json:"cmd"`
	// Env sets variables; values may use $VAR and ${VAR}, expanded against
	// the base image's environment (unknown variables expand to "").
	Env  map[string]string `json:"env"`
	User string            `json:"user"`
	// Workdir sets the working directory.
	Workdir string `json:"workdir"`
	// ExposedPorts are "PORT" or "PORT/PROTO" (tcp, udp, sctp); PORT alone
	// means PORT/tcp. They are added to the base's.
	ExposedPorts []string `json:"exposed_ports"`
	// Volumes are added to the base's.
	Volumes []string `json:"volumes"`
	// Labels are merged onto the base's config labels.
	Labels map[string]string `json:"labels"`
	// Annotations go on the manifest.
	Annotations map[string]string `json:"annotations"`
	// OS and Architecture are required without a base and refused with
	// one (the base decides the platform); so is Variant.
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	// Created (RFC 3339) overrides the creation time.
	Created string `json:"created"`
	// Healthcheck sets Docker's config.Healthcheck. It is Docker-specific:
	// the OCI image spec has no health check, and runtimes other than
	// Docker/Podman (docker format) ignore it.
	Healthcheck *Healthcheck `json:"healthcheck"`
	// Out is the OCI layout directory to write.
	Out string `json:"out"`
	// DigestOut, if set, receives the manifest digest "sha256:..." with no
	// trailing newline (as rules_oci writes it).
	DigestOut string `json:"digest_out"`
}

// Healthcheck is the JSON form of v1.HealthConfig; durations are Go
// duration strings such as "30s" or "1m30s".
type Healthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	StartPeriod string   `json:"start_period"`
	Retries     int      `json:"retries"`
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
	if spec.DigestOut != "" {
		if err := atomicfile.WriteBytes(spec.DigestOut, 0o644, []byte(digest.String())); err != nil {
			return v1.Hash{}, err
		}
	}
	return digest, nil
}

// check validates img with validate.Image. validate.Image can read only
// gzip layers, so an image with zstd layers gets the fast validation
// (manifest, config, layer presence); zstd layers built here have still
// been read in full to compute their digest and diff ID.
func check(img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	var opts []validate.Option
	for _, l := range m.Layers {
		if l.MediaType == types.OCILayerZStd {
			opts = append(opts, validate.Fast)
			break
		}
	}
	if err := validate.Image(img, opts...); err != nil {
		return fmt.Errorf("the assembled image is invalid: %w", err)
	}
	return nil
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
		t, err := time.Parse(time.RFC3339, spec.Created)
		if err != nil {
			return nil, fmt.Errorf(`"created": %q is not an RFC 3339 time such as "2024-01-02T15:04:05Z"`, spec.Created)
		}
		created = t.UTC()
	}
	family, err := mediaFamily(base)
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.Addendum, len(spec.Tars))
	for i, path := range spec.Tars {
		l, err := openLayer(path, family)
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
	if err := applyConfig(&cfg.Config, baseCfg.Config.Env, spec); err != nil {
		return nil, err
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, err
	}
	if len(spec.Annotations) > 0 {
		img = mutate.Annotations(img, spec.Annotations).(v1.Image)
	}
	return img, nil
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
// Compressed tars are used byte for byte; plain tars are gzipped once
// (tarball's default level, cached so they are not compressed again).
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
		mt := types.OCILayer
		if fam == dockerFamily {
			mt = types.DockerLayer
		}
		return layerFromFile(path, tarball.WithMediaType(mt))
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
	mt := types.OCILayer
	if fam == dockerFamily {
		mt = types.DockerLayer
	}
	return layerFromFile(path, tarball.WithMediaType(mt), tarball.WithCompressedCaching)
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

func applyConfig(c *v1.Config, baseEnv []string, spec Spec) error {
	if spec.Entrypoint != nil {
		c.Entrypoint = append([]string{}, *spec.Entrypoint...)
		c.Cmd = nil
	}
	if spec.Cmd != nil {
		c.Cmd = append([]string{}, *spec.Cmd...)
	}
	if len(spec.Env) > 0 {
		c.Env = setEnv(c.Env, baseEnv, spec.Env)
	}
	if spec.User != "" {
		c.User = spec.User
	}
	if spec.Workdir != "" {
		c.WorkingDir = spec.Workdir
	}
	if len(spec.ExposedPorts) > 0 {
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for i, p := range spec.ExposedPorts {
			np, err := NormalizePort(p)
			if err != nil {
				return fmt.Errorf(`"exposed_ports"[%d]: %w`, i, err)
			}
			c.ExposedPorts[np] = struct{}{}
		}
	}
	if len(spec.Volumes) > 0 {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for i, v := range spec.Volumes {
			if !strings.HasPrefix(v, "/") {
				return fmt.Errorf(`"volumes"[%d]: %q is not an absolute path`, i, v)
			}
			c.Volumes[v] = struct{}{}
		}
	}
	if len(spec.Labels) > 0 {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for k, v := range spec.Labels {
			c.Labels[k] = v
		}
	}
	if spec.Healthcheck != nil {
		hc, err := healthConfig(*spec.Healthcheck)
		if err != nil {
			return fmt.Errorf(`"healthcheck": %w`, err)
		}
		c.Healthcheck = hc
	}
	return nil
}

// NormalizePort turns "8080" into "8080/tcp" and checks "PORT/PROTO".
func NormalizePort(p string) (string, error) {
	port, proto, hasProto := strings.Cut(p, "/")
	if !hasProto {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("%q: want PORT or PORT/PROTO with PORT in 1..65535", p)
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return "", fmt.Errorf("%q: protocol %q is not tcp, udp or sctp", p, proto)
	}
	return port + "/" + proto, nil
}

// setEnv applies vars (sorted by name for determinism) to env: an existing
// variable keeps its position, a new one is appended. Values are expanded
// against baseEnv.
func setEnv(env, baseEnv []string, vars map[string]string) []string {
	lookup := map[string]string{}
	for _, kv := range baseEnv {
		k, v, _ := strings.Cut(kv, "=")
		lookup[k] = v
	}
	out := append([]string{}, env...)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv := k + "=" + Expand(vars[k], lookup)
		replaced := false
		for i, old := range out {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				out[i] = kv
				replaced = true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// Expand replaces $NAME and ${NAME} in s with vars[NAME] ("" if unset).
// A "$" not followed by a name or "{name}" is kept as it is.
func Expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end >= 0 && isName(s[i+2:i+2+end]) {
				b.WriteString(vars[s[i+2:i+2+end]])
				i += 2 + end
				continue
			}
			b.WriteByte('$')
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || isAlpha(s[j]) || (j > i+1 && s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isName(s string) bool {
	if s == "" || !(s[0] == '_' || isAlpha(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !(s[i] == '_' || isAlpha(s[i]) || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

func healthConfig(h Healthcheck) (*v1.HealthConfig, error) {
	if len(h.Test) == 0 {
		return nil, errors.New(`"test" is required, e.g. ["CMD", "/app/bin", "healthcheck"] or ["NONE"]`)
	}
	switch h.Test[0] {
	case "NONE", "CMD", "CMD-SHELL":
	default:
		return nil, fmt.Errorf(`"test" must start with "CMD", "CMD-SHELL" or "NONE", got %q`, h.Test[0])
	}
	if h.Retries < 0 {
		return nil, fmt.Errorf(`"retries" must not be negative, got %d`, h.Retries)
	}
	hc := &v1.HealthConfig{Test: append([]string{}, h.Test...), Retries: h.Retries}
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"interval", h.Interval, &hc.Interval}, {"timeout", h.Timeout, &hc.Timeout}, {"start_period", h.StartPeriod, &hc.StartPeriod}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return nil, fmt.Errorf(`%q: %q is not a duration such as "30s" or "1m30s"`, d.name, d.s)
		}
		*d.dst = v
	}
	return hc, nil
}
