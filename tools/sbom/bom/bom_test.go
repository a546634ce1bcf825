package bom

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cat-server/cat-server/tools/oci/pull/fakealpine"
	"github.com/cat-server/cat-server/tools/sbom/gomodules"
)

const apkDB = `P:musl
V:1.2.5-r9
A:x86_64
L:MIT
o:musl

P:busybox
V:1.37.0-r12
A:x86_64
L:GPL-2.0-only
o:busybox
`

// layer is a tar layer holding files (path -> content).
func layer(t *testing.T, files map[string][]byte) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// alpineWithBinary is the fake alpine image with an apk database and this test
// binary (a Go binary with build information) at /app/bin.
func alpineWithBinary(t *testing.T, withDB bool) (v1.Image, GoBinary, []byte) {
	t.Helper()
	img, err := fakealpine.Image(v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"app/bin": bin}
	if withDB {
		files["lib/apk/db/installed"] = []byte(apkDB)
	}
	img, err = mutate.AppendLayers(img, layer(t, files))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := filepath.Join(dir, "go.mod")
	goSum := filepath.Join(dir, "go.sum")
	if err := os.WriteFile(goMod, []byte("module example.com/app\n\ngo 1.25.0\n\nrequire example.com/lib v1.2.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goSum, []byte("example.com/lib v1.2.3 h1:lib=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return img, GoBinary{File: self, MainPackage: "example.com/app/cmd", Packages: []string{"example.com/app/cmd", "example.com/lib/p"}, GoMod: goMod, GoSum: goSum}, bin
}

func encode(t *testing.T, in Input) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, Build(in)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAlpineBase(t *testing.T) {
	img, gb, bin := alpineWithBinary(t, true)
	in, err := FromImage("//image:image", img, []GoBinary{gb})
	if err != nil {
		t.Fatal(err)
	}
	out := encode(t, in)
	b, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range *b.Components {
		got = append(got, c.PackageURL)
	}
	want := []string{
		"pkg:golang/example.com/app", // the binary: bom-ref file:/app/bin sorts first
		"pkg:apk/alpine/busybox@1.37.0-r12?arch=x86_64&distro=alpine-3.20.3",
		"pkg:apk/alpine/musl@1.2.5-r9?arch=x86_64&distro=alpine-3.20.3",
		"pkg:golang/example.com/lib@v1.2.3",
		"pkg:golang/stdlib@" + strings.TrimPrefix(runtime.Version(), "go"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("component purls (-want +got):\n%s", diff)
	}
	d, _ := img.Digest()
	if b.Metadata.Component.Version != d.String() || b.Metadata.Component.Name != "//image:image" {
		t.Errorf("metadata component %+v, want //image:image %s", b.Metadata.Component, d)
	}
	bins, err := GoBinaries(b)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	wantBins := []BinaryInfo{{
		Path: "/app/bin", SHA256: hex.EncodeToString(sum[:]), MainPackage: "example.com/app/cmd",
		Main:    gomodules.Module{Path: "example.com/app", Version: "(devel)"},
		Modules: []gomodules.Module{{Path: "example.com/lib", Version: "v1.2.3", Sum: "h1:lib="}},
	}}
	if diff := cmp.Diff(wantBins, bins); diff != "" {
		t.Errorf("GoBinaries (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(out), `"expression": "GPL-2.0-only"`) {
		t.Error("apk license missing")
	}
	// Reproducible: the same input gives the same bytes.
	for i := 0; i < 3; i++ {
		in2, err := FromImage("//image:image", img, []GoBinary{gb})
		if err != nil {
			t.Fatal(err)
		}
		if again := encode(t, in2); !bytes.Equal(again, out) {
			t.Fatalf("second encoding differs:\n%s", cmp.Diff(string(out), string(again)))
		}
	}
}

func TestNoPackageDatabase(t *testing.T) {
	img, gb, _ := alpineWithBinary(t, false)
	in, err := FromImage("x", img, []GoBinary{gb})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.APK) != 0 || in.Distro != "" {
		t.Errorf("APK %v distro %q, want none without %s", in.APK, in.Distro, "/lib/apk/db/installed")
	}
}

func TestFromImageErrors(t *testing.T) {
	img, gb, _ := alpineWithBinary(t, true)
	notGo := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notGo, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	self, _ := os.ReadFile(gb.File)
	if err := os.WriteFile(other, append(self, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	badDB, err := mutate.AppendLayers(img, layer(t, map[string][]byte{"lib/apk/db/installed": []byte("P:x\n")}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		img  v1.Image
		edit func(*GoBinary)
		want string
	}{
		{"binary not in the image", img, func(b *GoBinary) { b.File = other }, "is not in the image"},
		{"not a Go binary", img, func(b *GoBinary) { b.File = notGo }, "no Go build information"},
		{"package outside go.mod", img, func(b *GoBinary) { b.Packages = []string{"example.org/x"} }, "package example.org/x is linked but no module"},
		{"missing go.mod", img, func(b *GoBinary) { b.GoMod = "/nonexistent/go.mod" }, "reading go.mod"},
		{"bad apk database", badDB, func(*GoBinary) {}, "/lib/apk/db/installed:1: package entry without"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := gb
			tt.edit(&b)
			_, err := FromImage("x", tt.img, []GoBinary{b})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRejectsOtherJSON(t *testing.T) {
	for _, in := range []string{`{}`, `{"spdxVersion":"SPDX-2.3"}`, `not json`} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%s) succeeded", in)
		}
	}
}
