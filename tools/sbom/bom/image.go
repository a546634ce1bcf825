package bom

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/sbom/apk"
	"github.com/cat-server/cat-server/tools/sbom/gomodules"
)

// GoBinary is a Go binary of the build with the build graph that linked it.
type GoBinary struct {
	// File is the binary as the build wrote it.
	File string
	// MainPackage is the import path of its main package.
	MainPackage string
	// Packages are the import paths of the non-standard packages linked
	// into it (from rules_go's GoArchive provider).
	Packages []string
	// GoMod and GoSum are the paths of go.mod and go.sum.
	GoMod, GoSum string
}

// FromImage collects the Input for img, named name. Each binary must be in
// the image (found by content); its Go version comes from the binary's build
// information, its modules from pkgs mapped through go.mod and go.sum.
func FromImage(name string, img v1.Image, bins []GoBinary) (Input, error) {
	digest, err := img.Digest()
	if err != nil {
		return Input{}, fmt.Errorf("image digest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Input{}, fmt.Errorf("image config: %w", err)
	}
	platform := cf.OS + "/" + cf.Architecture
	if cf.Variant != "" {
		platform += "/" + cf.Variant
	}
	fsys, err := imagefs.New(img)
	if err != nil {
		return Input{}, err
	}
	in := Input{Name: name, Digest: digest.String(), Platform: platform}
	for _, b := range bins {
		bin, err := goBinary(fsys, b)
		if err != nil {
			return Input{}, err
		}
		in.Binaries = append(in.Binaries, bin...)
	}
	db, err := fsys.ReadFile(apk.DBPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Input{}, fmt.Errorf("reading %s from the image: %w", apk.DBPath, err)
	default:
		if in.APK, err = apk.Parse(apk.DBPath, db); err != nil {
			return Input{}, err
		}
		if rel, err := fsys.ReadFile("/etc/alpine-release"); err == nil {
			in.Distro = strings.TrimSpace(string(rel))
		}
	}
	return in, nil
}

// goBinary describes b at every path of the image that holds its bytes.
func goBinary(fsys *imagefs.FS, b GoBinary) ([]Binary, error) {
	data, err := os.ReadFile(b.File)
	if err != nil {
		return nil, fmt.Errorf("reading binary: %w", err)
	}
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build information: %w", b.File, err)
	}
	goMod, err := os.ReadFile(b.GoMod)
	if err != nil {
		return nil, fmt.Errorf("reading go.mod: %w", err)
	}
	goSum, err := os.ReadFile(b.GoSum)
	if err != nil {
		return nil, fmt.Errorf("reading go.sum: %w", err)
	}
	mods, err := gomodules.Resolve(b.GoMod, goMod, b.GoSum, goSum, b.Packages)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	var paths []string
	var walkErr error
	fsys.Walk(func(e *imagefs.Entry) {
		if walkErr != nil || e.Header.Size != int64(len(data)) || (e.Header.Typeflag != tar.TypeReg && e.Header.Typeflag != tar.TypeRegA) {
			return
		}
		content, err := fsys.ReadFile(e.Path)
		if err != nil {
			walkErr = err
			return
		}
		if sha256.Sum256(content) == sum {
			paths = append(paths, e.Path)
		}
	})
	if walkErr != nil {
		return nil, walkErr
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("binary %s (sha256:%x) is not in the image: is the image built from this binary?", b.File, sum)
	}
	var out []Binary
	for _, p := range paths {
		out = append(out, Binary{Path: p, SHA256: hex.EncodeToString(sum[:]), GoVersion: bi.GoVersion, MainPackage: b.MainPackage, Modules: mods})
	}
	return out, nil
}
