// Package pull fetches base images from registries (or imports them from a
// local OCI layout or a docker-save tarball), picks the image for one
// platform, verifies every blob and writes it as a single-image OCI layout
// with ocilayout.Write.
//
// Nothing is written to the output directory unless the whole image was
// fetched and verified: blobs are downloaded into a temporary staging layout
// next to the output, checked, and only then copied into place atomically.
package pull

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cat-server/cat-server/tools/oci/blobhash"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Options says what to pull and where to write it.
type Options struct {
	// Image is the repository without tag or digest, e.g.
	// "index.docker.io/library/alpine".
	Image string
	// Digest pins the image ("sha256:..."): the digest of the index (for a
	// multi-platform image) or of the image manifest. Optional when Tag is
	// set, which is accepted with a warning naming the digest to pin.
	Digest string
	// Tag is used only when Digest is empty.
	Tag string
	// Platform is os/arch[/variant], e.g. "linux/amd64" or "linux/arm64/v8".
	Platform string
	// Out is the directory the single-image OCI layout is written to.
	Out string
	// Name names the image in messages; defaults to the last path element
	// of Image ("alpine").
	Name string
	// Keychain resolves registry credentials; defaults to
	// authn.DefaultKeychain (the docker config and credential helpers).
	Keychain authn.Keychain
	// Transport, when set, is used for all registry requests (tests).
	Transport http.RoundTripper
	// RemoteOptions are appended to the options given to the registry
	// client (tests: e.g. remote.WithRetryBackoff).
	RemoteOptions []remote.Option
	// Stderr receives the warning for tag-only pulls; defaults to os.Stderr.
	Stderr io.Writer
}

// Result describes what Pull or Import wrote.
type Result struct {
	// Digest is what the reference resolved to (the index for a
	// multi-platform image): the digest to pin. Zero for a tarball import.
	Digest v1.Hash
	// ImageDigest is the manifest digest of the image written to Out.
	ImageDigest v1.Hash
	// MediaType is the media type of the written image manifest.
	MediaType string
	// Platform is the written image's platform, from its config.
	Platform string
	// Warning is non-empty when the image was pulled by tag only; it was
	// also written to Options.Stderr.
	Warning string
}

// Pull fetches opts.Image for opts.Platform, verifies it and writes it to
// opts.Out. On error opts.Out is left untouched.
func Pull(ctx context.Context, opts Options) (*Result, error) {
	// No platform: a single-platform image (oci.pull without platforms, the
	// <name>_single repository); an index is then an error.
	var want Platform
	if opts.Platform != "" {
		var err error
		if want, err = ParsePlatform(opts.Platform); err != nil {
			return nil, err
		}
	}
	if opts.Out == "" {
		return nil, errors.New("pull: no output directory given")
	}
	if opts.Image == "" {
		return nil, errors.New("pull: no image given")
	}
	if strings.Contains(opts.Image, "@") {
		return nil, fmt.Errorf("pull: image %q must be a repository without a digest; give the digest separately", opts.Image)
	}
	repo, err := name.NewRepository(opts.Image)
	if err != nil {
		return nil, fmt.Errorf("pull: image %q is not a repository (give the tag and digest separately): %v", opts.Image, err)
	}
	label := opts.Name
	if label == "" {
		label = path.Base(repo.RepositoryStr())
	}
	var ref name.Reference
	switch {
	case opts.Digest != "":
		ref, err = name.NewDigest(repo.Name() + "@" + opts.Digest)
		if err != nil {
			return nil, fmt.Errorf("pull %s: invalid digest %q: want sha256:<64 hex digits>", label, opts.Digest)
		}
	case opts.Tag != "":
		ref, err = name.NewTag(repo.Name() + ":" + opts.Tag)
		if err != nil {
			return nil, fmt.Errorf("pull %s: invalid tag %q: %v", label, opts.Tag, err)
		}
	default:
		return nil, fmt.Errorf("pull %s: neither a digest nor a tag given", label)
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithUserAgent("cat-server-ocitool"),
	}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	ropts = append(ropts, opts.RemoteOptions...)

	registry := repo.RegistryStr()
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %s", label, explain(err, registry, ref.String()))
	}
	top := sha256Hash(desc.Manifest)
	if opts.Digest != "" && top.String() != opts.Digest {
		return nil, fmt.Errorf("pull %s: corrupt blob %s (manifest of %s): its content hashes to %s", label, opts.Digest, ref, top)
	}
	what := fmt.Sprintf("%s %s", label, want)
	if opts.Platform == "" {
		what = label
	}

	var img v1.Image
	var imgDigest v1.Hash
	switch {
	case desc.MediaType.IsIndex() && opts.Platform == "":
		return nil, fmt.Errorf("pull %s: %s is a multi-platform image index, so platforms must be given (e.g. platforms = [\"linux/amd64\"])", label, ref)
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("pull %s: reading index %s: %s", label, top, explain(err, registry, ref.String()))
		}
		img, imgDigest, err = selectFromIndex(idx, want, fmt.Sprintf("%s (index %s)", label, top))
		var ce *childError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("pull %s: %v", label, blobError(ce.err, ce.digest, "manifest of "+what, registry))
		}
		if err != nil {
			return nil, fmt.Errorf("pull %s: %s", label, explain(err, registry, ref.String()))
		}
	case desc.MediaType.IsImage():
		img, err = desc.Image()
		if err != nil {
			return nil, fmt.Errorf("pull %s: %s", label, explain(err, registry, ref.String()))
		}
		imgDigest = top
	default:
		return nil, fmt.Errorf("pull %s: %s has media type %q, want an image or an image index", label, ref, desc.MediaType)
	}

	staging, cleanup, err := stagingDir(opts.Out)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %v", label, err)
	}
	defer cleanup()
	staged, err := stage(ctx, img, imgDigest, staging, what, registry)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %v", label, err)
	}
	res, err := verifyAndWrite(ctx, staged, imgDigest, want, what, opts.Out)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %v", label, err)
	}
	res.Digest = top
	if opts.Digest == "" {
		res.Warning = fmt.Sprintf("WARNING: %s is pulled by tag %q only; pin it: digest = %q", label, opts.Tag, top.String())
		w := opts.Stderr
		if w == nil {
			w = os.Stderr
		}
		fmt.Fprintln(w, res.Warning)
	}
	return res, nil
}

// Import reads an image from src — an OCI layout directory (holding one
// image, or an index to pick platform from) or a docker-save tarball — and
// writes it to out after the same platform check and verification as Pull.
// On error out is left untouched.
func Import(ctx context.Context, src, platform, out string) (*Result, error) {
	want, err := ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	if out == "" {
		return nil, errors.New("import: no output directory given")
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("import: %v", err)
	}
	what := fmt.Sprintf("%s %s", src, want)
	var img v1.Image
	var imgDigest, top v1.Hash
	if fi.IsDir() {
		// go-containerregistry reads index.json whole: cap it as ocilayout does.
		if st, err := os.Stat(filepath.Join(src, "index.json")); err == nil && st.Size() > ocilayout.MaxIndexJSONBytes {
			return nil, fmt.Errorf("import %s: index.json is %d bytes, more than the %d-byte limit", src, st.Size(), ocilayout.MaxIndexJSONBytes)
		}
		p, err := layout.FromPath(src)
		if err != nil {
			return nil, fmt.Errorf("import %s: not an OCI layout: %v", src, err)
		}
		idx, err := p.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("import %s: reading index.json: %v", src, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("import %s: reading index.json: %v", src, err)
		}
		if len(im.Manifests) == 1 {
			top = im.Manifests[0].Digest
		}
		img, imgDigest, err = selectFromIndex(idx, want, src)
		if err != nil {
			return nil, fmt.Errorf("import: %v", err)
		}
	} else {
		img, err = tarball.ImageFromPath(src, nil)
		if err != nil {
			return nil, fmt.Errorf("import %s: not a docker-save tarball with one image: %v", src, err)
		}
	}
	res, err := verifyAndWrite(ctx, img, imgDigest, want, what, out)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", src, err)
	}
	res.Digest = top
	return res, nil
}

// selectFromIndex picks the image for want. Attestation manifests
// (unknown/unknown) are skipped. An index with a single entry that has no
// platform (the usual single-image OCI layout) yields that entry; a single
// nested index is descended into.
func selectFromIndex(idx v1.ImageIndex, want Platform, what string) (v1.Image, v1.Hash, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("reading index of %s: %w", what, err)
	}
	var cands []v1.Descriptor
	for _, d := range im.Manifests {
		if !isAttestation(d) {
			cands = append(cands, d)
		}
	}
	if len(cands) == 1 && cands[0].Platform == nil {
		d := cands[0]
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, v1.Hash{}, fmt.Errorf("reading index %s of %s: %w", d.Digest, what, err)
			}
			return selectFromIndex(child, want, what)
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, v1.Hash{}, fmt.Errorf("reading image %s of %s: %w", d.Digest, what, err)
			}
			return img, d.Digest, nil
		}
	}
	for _, d := range cands {
		if d.Platform == nil || !want.Exactly(d.Platform) {
			continue
		}
		if !d.MediaType.IsImage() {
			return nil, v1.Hash{}, fmt.Errorf("the %s entry %s of %s has media type %q, want an image manifest", want, d.Digest, what, d.MediaType)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, v1.Hash{}, &childError{digest: d.Digest, err: err}
		}
		return img, d.Digest, nil
	}
	return nil, v1.Hash{}, fmt.Errorf("%s has no image for platform %s; available platforms: %s", what, want, availablePlatforms(im))
}

// childError is a failure to read the platform image an index points to.
type childError struct {
	digest v1.Hash
	err    error
}

func (e *childError) Error() string {
	return fmt.Sprintf("reading image %s: %v", e.digest, e.err)
}

func (e *childError) Unwrap() error { return e.err }

// stagingDir makes an empty temporary directory next to out (so the final
// copy stays on one file system) and returns it with its remover.
func stagingDir(out string) (string, func(), error) {
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".pull-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// stage downloads img's manifest, config and layers into a new OCI layout
// at dir, checking each blob's digest and size as it arrives, and returns
// the staged image.
func stage(ctx context.Context, img v1.Image, wantDigest v1.Hash, dir, what, registry string) (v1.Image, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("staging %s: %v", what, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, blobError(err, wantDigest, "manifest of "+what, registry)
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %v", what, err)
	}
	h := sha256Hash(raw)
	if wantDigest != (v1.Hash{}) && h != wantDigest {
		return nil, corrupt(wantDigest, "manifest of "+what, "its content hashes to "+h.String())
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s of %s: %v", h, what, err)
	}
	if err := writeBlob(dir, v1.Descriptor{Digest: h, Size: int64(len(raw))}, io.NopCloser(bytes.NewReader(raw)), "manifest of "+what, registry); err != nil {
		return nil, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, blobError(err, m.Config.Digest, "config of "+what, registry)
	}
	if err := writeBlob(dir, m.Config, io.NopCloser(bytes.NewReader(cfg)), "config of "+what, registry); err != nil {
		return nil, err
	}
	for i, l := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("layer %d of %d of %s", i+1, len(m.Layers), what)
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, blobError(err, l.Digest, desc, registry)
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, blobError(err, l.Digest, desc, registry)
		}
		if err := writeBlob(dir, l, rc, desc, registry); err != nil {
			return nil, err
		}
	}
	if err := p.AppendDescriptor(v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}); err != nil {
		return nil, fmt.Errorf("staging %s: %v", what, err)
	}
	return ocilayout.Read(dir)
}

// writeBlob copies rc into the staging layout's blob for d, failing if the
// content does not match d's digest and size.
func writeBlob(dir string, d v1.Descriptor, rc io.ReadCloser, what, registry string) error {
	defer rc.Close()
	if d.Digest.Algorithm != "sha256" {
		return fmt.Errorf("blob %s (%s): unsupported digest algorithm %q", d.Digest, what, d.Digest.Algorithm)
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(blobs, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	hw := blobhash.New()
	if _, err := io.Copy(io.MultiWriter(f, hw), rc); err != nil {
		if got := hw.Digest(); hw.Size() == d.Size && got != d.Digest {
			return corrupt(d.Digest, what, "its content hashes to "+got.String())
		}
		return blobError(err, d.Digest, what, registry)
	}
	if err := check(d, hw, what); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(blobs, d.Digest.Hex))
}

// verifyAndWrite checks img completely — manifest digest, config digest,
// platform, every layer's compressed digest and size and uncompressed
// diff_id — and only then writes it to out.
func verifyAndWrite(ctx context.Context, img v1.Image, wantDigest v1.Hash, want Platform, what, out string) (*Result, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %v", what, err)
	}
	h := sha256Hash(raw)
	if wantDigest != (v1.Hash{}) && h != wantDigest {
		return nil, corrupt(wantDigest, "manifest of "+what, "its content hashes to "+h.String())
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %v", what, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s of %s: %v", h, what, err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("blob %s (config of %s): %v", m.Config.Digest, what, err)
	}
	hw := blobhash.New()
	hw.Write(rawCfg)
	if err := check(m.Config, hw, "config of "+what); err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("blob %s (config of %s): %v", m.Config.Digest, what, err)
	}
	got := Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if want != (Platform{}) && !want.Matches(got.OS, got.Architecture, got.Variant) {
		return nil, fmt.Errorf("the image %s is for platform %s, not %s", h, got, want)
	}
	if n := len(cfg.RootFS.DiffIDs); n != len(m.Layers) {
		return nil, fmt.Errorf("%s: the image %s has %d layers but its config lists %d diff_ids", what, h, len(m.Layers), n)
	}
	for i, l := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("layer %d of %d of %s", i+1, len(m.Layers), what)
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("blob %s (%s): %v", l.Digest, desc, err)
		}
		if err := hashInto(layer.Compressed, hw.Reset()); err != nil {
			return nil, fmt.Errorf("blob %s (%s): %v", l.Digest, desc, err)
		}
		if err := check(l, hw, desc); err != nil {
			return nil, err
		}
		if err := hashInto(layer.Uncompressed, hw.Reset()); err != nil {
			return nil, corrupt(l.Digest, desc, "decompressing: "+err.Error())
		}
		if d := cfg.RootFS.DiffIDs[i]; hw.Digest() != d {
			return nil, corrupt(l.Digest, desc, fmt.Sprintf("its uncompressed content hashes to %s but the config's diff_id is %s", hw.Digest(), d))
		}
	}
	if err := ocilayout.Write(out, img); err != nil {
		return nil, err
	}
	return &Result{ImageDigest: h, MediaType: string(mt), Platform: got.String()}, nil
}

func hashInto(open func() (io.ReadCloser, error), w io.Writer) error {
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return err
}

// check compares what hw saw with d's digest and size.
func check(d v1.Descriptor, hw *blobhash.Writer, what string) error {
	if got := hw.Digest(); got != d.Digest {
		return corrupt(d.Digest, what, "its content hashes to "+got.String())
	}
	if hw.Size() != d.Size {
		return corrupt(d.Digest, what, fmt.Sprintf("it has %d bytes, the manifest says %d", hw.Size(), d.Size))
	}
	return nil
}

func corrupt(d v1.Hash, what, why string) error {
	return fmt.Errorf("corrupt blob %s (%s): %s", d, what, why)
}

// blobError explains a failure to fetch a blob: a digest or size mismatch
// detected by the registry client is reported as a corrupt blob.
func blobError(err error, d v1.Hash, what, registry string) error {
	msg := err.Error()
	if strings.Contains(msg, "error verifying") || strings.Contains(msg, "does not match requested digest") {
		return corrupt(d, what, msg)
	}
	return fmt.Errorf("fetching blob %s (%s): %s", d, what, explain(err, registry, ""))
}

// explain turns registry client errors into one-line messages.
func explain(err error, registry, ref string) string {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot reach registry %s: %v", registry, dnsErr)
	case errors.As(err, &opErr):
		return fmt.Sprintf("cannot reach registry %s: %v", registry, opErr)
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusNotFound:
			if ref != "" {
				return fmt.Sprintf("%s not found in registry %s (check the image, digest and tag): %s", ref, registry, oneLine(err.Error()))
			}
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Sprintf("registry %s denied access: %s; log in with `docker login %s` (credentials are read from $DOCKER_CONFIG/config.json, default ~/.docker/config.json, and its credential helpers)", registry, oneLine(err.Error()), registry)
		}
	}
	if strings.Contains(err.Error(), "does not match requested digest") {
		return "corrupt blob: " + oneLine(err.Error())
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}
