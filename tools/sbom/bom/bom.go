// Package bom describes an image as a CycloneDX 1.6 bill of materials: the
// image, each Go binary in it with the Go toolchain and the modules linked
// into it, and the packages of the base image's apk database. The same
// input always gives the same bytes (no timestamp; the serial number derives
// from the image digest).
package bom

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/cat-server/cat-server/tools/sbom/apk"
	"github.com/cat-server/cat-server/tools/sbom/gomodules"
)

// SpecVersion is the CycloneDX version written.
const SpecVersion = cdx.SpecVersion1_6

// MediaType is the media type of the encoded BOM (also the artifactType of
// the referrer artifact).
const MediaType = "application/vnd.cyclonedx+json"

// Property names used on components.
const (
	PropImagePath   = "cat-server:image:path"   // a binary's path in the image
	PropMainPackage = "cat-server:go:main"      // a binary's main package
	PropGoPackage   = "cat-server:go:package"   // a linked package of a module (repeated)
	PropGoSum       = "cat-server:go:sum"       // a module's go.sum hash
	PropToolchain   = "cat-server:go:toolchain" // the Go toolchain that built a binary
)

// Input is what the BOM describes.
type Input struct {
	// Name names the image (e.g. its Bazel label).
	Name string
	// Digest is the image manifest digest, "sha256:...".
	Digest string
	// Platform is "os/arch[/variant]".
	Platform string
	Binaries []Binary
	// APK holds the base image's apk packages, if it has an apk database.
	APK []apk.Package
	// Distro is the Alpine release (/etc/alpine-release), for apk package URLs.
	Distro string
}

// Binary is one Go binary found in the image.
type Binary struct {
	Path      string // in the image, e.g. /app/cat-server
	SHA256    string // hex
	GoVersion string // e.g. go1.26.8
	// MainPackage is the import path of the binary's main package.
	MainPackage string
	Modules     *gomodules.Result
}

// Build returns the BOM for in.
func Build(in Input) *cdx.BOM {
	b := cdx.NewBOM()
	b.SerialNumber = serial(in.Digest)
	b.Version = 1
	b.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "sbomtool", Group: "github.com/cat-server/cat-server/tools/sbom",
		}}},
		Component: &cdx.Component{
			BOMRef:  "image",
			Type:    cdx.ComponentTypeContainer,
			Name:    in.Name,
			Version: in.Digest,
			Properties: &[]cdx.Property{
				{Name: "cat-server:image:platform", Value: in.Platform},
			},
		},
	}
	var comps []cdx.Component
	seen := map[string]bool{}
	add := func(c cdx.Component) {
		if !seen[c.BOMRef] {
			seen[c.BOMRef] = true
			comps = append(comps, c)
		}
	}
	var deps []cdx.Dependency
	var imageDeps []string
	for _, bin := range in.Binaries {
		ref := "file:" + bin.Path
		imageDeps = append(imageDeps, ref)
		props := []cdx.Property{
			{Name: PropImagePath, Value: bin.Path},
			{Name: PropToolchain, Value: bin.GoVersion},
			{Name: PropMainPackage, Value: bin.MainPackage},
		}
		main := bin.Modules.Main
		for _, p := range main.Packages {
			props = append(props, cdx.Property{Name: PropGoPackage, Value: p})
		}
		add(cdx.Component{
			BOMRef:     ref,
			Type:       cdx.ComponentTypeApplication,
			Name:       main.Path,
			Version:    main.Version,
			PackageURL: goPURL(main.Path, main.Version),
			Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: bin.SHA256}},
			Properties: &props,
		})
		std := stdlib(bin.GoVersion)
		add(std)
		binDeps := []string{std.BOMRef}
		for _, m := range bin.Modules.Deps {
			c := module(m)
			add(c)
			binDeps = append(binDeps, c.BOMRef)
		}
		sort.Strings(binDeps)
		deps = append(deps, cdx.Dependency{Ref: ref, Dependencies: &binDeps})
	}
	for _, p := range in.APK {
		c := apkComponent(p, in.Distro)
		add(c)
		imageDeps = append(imageDeps, c.BOMRef)
	}
	sort.Strings(imageDeps)
	deps = append([]cdx.Dependency{{Ref: "image", Dependencies: &imageDeps}}, deps...)
	sort.SliceStable(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	b.Components = &comps
	b.Dependencies = &deps
	return b
}

// Encode writes b as indented CycloneDX JSON.
func Encode(w io.Writer, b *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(b, SpecVersion); err != nil {
		return fmt.Errorf("encoding CycloneDX %s: %w", SpecVersion, err)
	}
	return nil
}

func stdlib(goVersion string) cdx.Component {
	v := strings.TrimPrefix(goVersion, "go")
	return cdx.Component{
		BOMRef:      "pkg:golang/stdlib@" + url.PathEscape(v),
		Type:        cdx.ComponentTypeLibrary,
		Name:        "stdlib",
		Version:     goVersion,
		Description: "Go standard library and runtime of the Go toolchain " + goVersion,
		PackageURL:  "pkg:golang/stdlib@" + url.PathEscape(v),
		Properties:  &[]cdx.Property{{Name: PropToolchain, Value: goVersion}},
	}
}

func module(m gomodules.Module) cdx.Component {
	purl := goPURL(m.Path, m.Version)
	props := []cdx.Property{}
	if m.Sum != "" {
		props = append(props, cdx.Property{Name: PropGoSum, Value: m.Sum})
	}
	for _, p := range m.Packages {
		props = append(props, cdx.Property{Name: PropGoPackage, Value: p})
	}
	return cdx.Component{
		BOMRef:     purl,
		Type:       cdx.ComponentTypeLibrary,
		Name:       m.Path,
		Version:    m.Version,
		PackageURL: purl,
		Properties: &props,
	}
}

// goPURL is the package URL of a Go module.
func goPURL(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	purl := "pkg:golang/" + strings.Join(segs, "/")
	if version == "" || version == "(devel)" {
		return purl // a main module built from source has no version
	}
	return purl + "@" + url.PathEscape(version)
}

func apkComponent(p apk.Package, distro string) cdx.Component {
	q := url.Values{}
	if p.Arch != "" {
		q.Set("arch", p.Arch)
	}
	if distro != "" {
		q.Set("distro", "alpine-"+distro)
	}
	purl := "pkg:apk/alpine/" + url.PathEscape(p.Name) + "@" + url.PathEscape(p.Version)
	if len(q) > 0 {
		purl += "?" + q.Encode()
	}
	c := cdx.Component{
		BOMRef:     purl,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: purl,
	}
	if p.License != "" {
		c.Licenses = &cdx.Licenses{{Expression: p.License}}
	}
	if p.Origin != "" {
		c.Properties = &[]cdx.Property{{Name: "cat-server:apk:origin", Value: p.Origin}}
	}
	return c
}

// serial is a name-based (version 5 style) UUID URN derived from the image
// digest, so the same image always gets the same serial number.
func serial(digest string) string {
	h := sha1.Sum([]byte("cat-server sbom " + digest))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Decode reads a CycloneDX JSON BOM; anything else is an error.
func Decode(content []byte) (*cdx.BOM, error) {
	var b cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(content), cdx.BOMFileFormatJSON).Decode(&b); err != nil {
		return nil, fmt.Errorf("not CycloneDX JSON: %w", err)
	}
	if b.BOMFormat != cdx.BOMFormat || b.SpecVersion == 0 {
		return nil, fmt.Errorf("not a CycloneDX BOM (bomFormat %q, specVersion %v)", b.BOMFormat, b.SpecVersion)
	}
	return &b, nil
}

// Check reports whether content is a CycloneDX JSON BOM.
func Check(content []byte) error {
	_, err := Decode(content)
	return err
}

// BinaryInfo is a Go binary as an SBOM of Build describes it.
type BinaryInfo struct {
	Path, SHA256, MainPackage string
	Main                      gomodules.Module
	Modules                   []gomodules.Module
}

// GoBinaries returns the Go binaries b lists, with the modules each depends on.
func GoBinaries(b *cdx.BOM) ([]BinaryInfo, error) {
	comps := map[string]cdx.Component{}
	if b.Components != nil {
		for _, c := range *b.Components {
			comps[c.BOMRef] = c
		}
	}
	deps := map[string][]string{}
	if b.Dependencies != nil {
		for _, d := range *b.Dependencies {
			if d.Dependencies != nil {
				deps[d.Ref] = *d.Dependencies
			}
		}
	}
	var out []BinaryInfo
	refs := make([]string, 0, len(comps))
	for ref := range comps {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		c := comps[ref]
		path := property(c, PropImagePath)
		if path == "" {
			continue
		}
		bi := BinaryInfo{Path: path, MainPackage: property(c, PropMainPackage), Main: gomodules.Module{Path: c.Name, Version: c.Version}}
		if c.Hashes != nil {
			for _, h := range *c.Hashes {
				if h.Algorithm == cdx.HashAlgoSHA256 {
					bi.SHA256 = h.Value
				}
			}
		}
		if bi.SHA256 == "" {
			return nil, fmt.Errorf("component %s has no SHA-256 hash", ref)
		}
		for _, d := range deps[ref] {
			m, ok := comps[d]
			if !ok {
				return nil, fmt.Errorf("component %s depends on %s, which is not listed", ref, d)
			}
			if !strings.HasPrefix(m.PackageURL, "pkg:golang/") || m.Name == "stdlib" {
				continue
			}
			bi.Modules = append(bi.Modules, gomodules.Module{Path: m.Name, Version: m.Version, Sum: property(m, PropGoSum)})
		}
		out = append(out, bi)
	}
	return out, nil
}

func property(c cdx.Component, name string) string {
	if c.Properties == nil {
		return ""
	}
	for _, p := range *c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
