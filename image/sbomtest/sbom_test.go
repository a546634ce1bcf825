// Package sbomtest checks //image:sbom against the built image and Bazel's build
// graph, its reproducibility, the govulncheck check against small vulnerability
// databases written here, and the push of the SBOM as a referrer of the image to an
// in-process registry on 127.0.0.1.
package sbomtest

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/mod/modfile"

	"github.com/cat-server/cat-server/tools/bazeltest"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/sbom/bom"
	"github.com/cat-server/cat-server/tools/sbom/vulndbtest"
)

// input returns the runfile that the environment variable key names.
func input(t *testing.T, key string) string {
	t.Helper()
	return bazeltest.Path(t, key, "//image/sbomtest")
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// imageDir is //image's OCI layout, beside its .digest file.
func imageDir(t *testing.T) (dir, digest string) {
	d := input(t, "IMAGE_DIGEST_FILE")
	return filepath.Join(filepath.Dir(d), "image"), strings.TrimSpace(string(read(t, d)))
}

func sbom(t *testing.T) []bom.BinaryInfo {
	t.Helper()
	b, err := bom.Decode(read(t, input(t, "SBOM")))
	if err != nil {
		t.Fatal(err)
	}
	bins, err := bom.GoBinaries(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 1 {
		t.Fatalf("SBOM lists %d Go binaries, want 1: %+v", len(bins), bins)
	}
	return bins
}

func TestSBOMDescribesTheImage(t *testing.T) {
	dir, digest := imageDir(t)
	content := read(t, input(t, "SBOM"))
	b, err := bom.Decode(content)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Metadata.Component.Version; got != digest {
		t.Errorf("SBOM describes image %s, want the built %s", got, digest)
	}
	if b.SpecVersion != bom.SpecVersion {
		t.Errorf("specVersion %v, want %v", b.SpecVersion, bom.SpecVersion)
	}
	img, err := ocilayout.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := imagefs.New(img)
	if err != nil {
		t.Fatal(err)
	}
	inImage, err := fsys.ReadFile("/app/cat-server")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(inImage)
	bin := sbom(t)[0]
	if bin.Path != "/app/cat-server" || bin.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SBOM binary %s sha256:%s, want /app/cat-server sha256:%x", bin.Path, bin.SHA256, sum)
	}
	bi, err := buildinfo.ReadFile(input(t, "BINARY"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(content), `"version": "`+bi.GoVersion+`"`) || !strings.Contains(string(content), "pkg:golang/stdlib@"+strings.TrimPrefix(bi.GoVersion, "go")) {
		t.Errorf("SBOM does not list the Go toolchain %s the binary was built with", bi.GoVersion)
	}
	if bin.MainPackage != "github.com/cat-server/cat-server/server/cmd/cat-server" {
		t.Errorf("main package %q", bin.MainPackage)
	}
}

// gazelleRepo is the repository name gazelle's go_deps gives a module path.
func gazelleRepo(path string) string {
	host, rest, _ := strings.Cut(path, "/")
	parts := strings.Split(host, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	name := strings.Join(parts, "_")
	if rest != "" {
		name += "_" + rest
	}
	return strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(name, "_"))
}

func TestSBOMModulesMatchBuildGraph(t *testing.T) {
	goMod := read(t, input(t, "GO_MOD"))
	f, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]string{}
	for _, r := range f.Require {
		required[gazelleRepo(r.Mod.Path)] = r.Mod.Path + "@" + r.Mod.Version
	}
	// Labels of the linked go_library targets: //pkg:name in this repository,
	// @@gazelle~~go_deps~REPO//pkg:name for go.mod's modules.
	wantMods := map[string]bool{}
	var wantMain []string
	for _, label := range strings.Fields(string(read(t, input(t, "LINKED_LIBRARIES")))) {
		switch {
		case strings.HasPrefix(label, "//"):
			pkg, _, _ := strings.Cut(strings.TrimPrefix(label, "//"), ":")
			wantMain = append(wantMain, f.Module.Mod.Path+"/"+pkg)
		case strings.Contains(label, "go_deps~"):
			repo := label[strings.LastIndex(label[:strings.Index(label, "//")], "~")+1 : strings.Index(label, "//")]
			mod, ok := required[repo]
			if !ok {
				t.Errorf("build graph links %s, whose repository %s is no module of go.mod", label, repo)
			}
			wantMods[mod] = true
		default:
			t.Logf("not a go.mod module: %s", label)
		}
	}
	bin := sbom(t)[0]
	gotMods := map[string]bool{}
	for _, m := range bin.Modules {
		gotMods[m.Path+"@"+m.Version] = true
	}
	if diff := cmp.Diff(wantMods, gotMods); diff != "" {
		t.Errorf("SBOM modules differ from the build graph (-graph +sbom):\n%s", diff)
	}
	if len(wantMods) == 0 {
		t.Error("the build graph links no go.mod module: chi at least is expected")
	}
	// The main module's packages: one property each on the binary's component.
	content := string(read(t, input(t, "SBOM")))
	sort.Strings(wantMain)
	for _, p := range wantMain {
		if !strings.Contains(content, `"value": "`+p+`"`) {
			t.Errorf("SBOM does not list the linked package %s", p)
		}
	}
}

func TestSBOMIsReproducible(t *testing.T) {
	dir, _ := imageDir(t)
	want := read(t, input(t, "SBOM"))
	// Nothing of the machine or the output base: the same from any checkout. The
	// builder's home directory (where the output base lives) is read from the user
	// database, since Bazel points HOME of a test at its temporary directory.
	machine := []string{"bazel-out", "execroot", "/tmp/", os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_TMPDIR")}
	if u, err := user.Current(); err == nil && u.HomeDir != "" && u.HomeDir != "/" {
		machine = append(machine, u.HomeDir+"/")
	}
	for _, p := range machine {
		if p == "" {
			continue
		}
		if bytes.Contains(want, []byte(p)) {
			t.Errorf("SBOM holds the machine path %q", p)
		}
	}
	pkgs := strings.Fields(string(read(t, input(t, "SBOM_PACKAGES"))))
	for i := 0; i < 3; i++ {
		// The same inputs, the package list in another order each time.
		sort.Slice(pkgs, func(a, b int) bool { return (pkgs[a] < pkgs[b]) == (i%2 == 0) })
		list := filepath.Join(t.TempDir(), "packages.txt")
		if err := os.WriteFile(list, []byte(strings.Join(pkgs, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "sbom.cdx.json")
		cmd := exec.Command(input(t, "SBOMTOOL"), "sbom", "--image", dir, "--name", "//image:image",
			"--binary", input(t, "BINARY"), "--main-package", "github.com/cat-server/cat-server/server/cmd/cat-server",
			"--packages", list, "--go-mod", input(t, "GO_MOD"), "--go-sum", input(t, "GO_SUM"), "--out", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
		if got := read(t, out); !bytes.Equal(got, want) {
			t.Fatalf("run %d: SBOM differs from //image:sbom:\n%s", i, cmp.Diff(string(want), string(got)))
		}
	}
}

// chi is the module of go.mod that cat-server links (its router).
func chi(t *testing.T) (path, version string) {
	for _, m := range sbom(t)[0].Modules {
		if m.Path == "github.com/go-chi/chi/v5" {
			return m.Path, m.Version
		}
	}
	t.Fatal("SBOM lists no github.com/go-chi/chi/v5")
	return "", ""
}

func TestVulncheck(t *testing.T) {
	dir, _ := imageDir(t)
	mod, version := chi(t)
	next := nextPatch(t, version)
	tests := []struct {
		name    string
		entries []vulndbtest.Entry
		wantErr bool
		want    []string // lines (prefixes) the output must hold
		notWant []string
	}{{
		name: "called",
		entries: []vulndbtest.Entry{{
			ID: "GO-2099-0001", Summary: "Router mishandles paths", Module: mod, Introduced: "v5.0.0", Fixed: next,
			Package: mod, Symbols: []string{"Mux.ServeHTTP"},
		}},
		wantErr: true,
		want:    []string{"FAIL GO-2099-0001: " + mod + "@" + version + " (fixed in " + next + "): vulnerable symbol in the binary: " + mod + ".Mux.ServeHTTP"},
	}, {
		name: "unreachable",
		entries: []vulndbtest.Entry{{
			ID: "GO-2099-0002", Summary: "Walk follows loops", Module: mod, Introduced: "v5.0.0", Fixed: next,
			Package: mod, Symbols: []string{"Walk"},
		}},
		want:    []string{"WARN GO-2099-0002: " + mod + "@" + version + " (fixed in " + next + "): vulnerable package linked", "PASS "},
		notWant: []string{"FAIL"},
	}, {
		name: "module only",
		entries: []vulndbtest.Entry{{
			ID: "GO-2099-0005", Summary: "a chi package cat-server does not link", Module: mod, Introduced: "v5.0.0", Fixed: next,
			Package: mod + "/nolinked", Symbols: []string{"F"},
		}},
		want:    []string{"WARN GO-2099-0005: " + mod + "@" + version + " (fixed in " + next + "): affected module version linked, no vulnerable package in the binary", "PASS "},
		notWant: []string{"FAIL"},
	}, {
		name: "clean",
		entries: []vulndbtest.Entry{{
			ID: "GO-2099-0003", Summary: "fixed before our version", Module: mod, Introduced: "v5.0.0", Fixed: "v5.0.1",
			Package: mod, Symbols: []string{"Mux.ServeHTTP"},
		}, {
			ID: "GO-2099-0004", Summary: "a module we do not link", Module: "example.com/unlinked", Fixed: "v1.0.1",
			Package: "example.com/unlinked", Symbols: []string{"F"},
		}},
		want:    []string{"PASS no vulnerable symbol in the image's Go binaries (0 warnings"},
		notWant: []string{"FAIL", "WARN"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, err := vulndbtest.Write(t.TempDir(), tt.entries)
			if err != nil {
				t.Fatal(err)
			}
			out, err := vulncheck(t, dir, "GOVULNDB="+url)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestVulncheckWithoutDatabaseFails(t *testing.T) {
	dir, _ := imageDir(t)
	out, err := vulncheck(t, dir)
	if err == nil {
		t.Fatalf("vulncheck without GOVULNDB passed:\n%s", out)
	}
	for _, w := range []string{"GOVULNDB", "--test_env=GOVULNDB=", "--test_tag_filters=-requires-vulndb"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if out, err := vulncheck(t, dir, "GOVULNDB=vuln.go.dev"); err == nil || !strings.Contains(out, `GOVULNDB / --db "vuln.go.dev"`) {
		t.Errorf("GOVULNDB without a scheme: err %v, output:\n%s", err, out)
	}
}

// vulncheck runs imagevulncheck on //image with only env set (and logs its output).
func vulncheck(t *testing.T, dir string, env ...string) (string, error) {
	return vulncheckArgs(t, dir, []string{"--timeout", "2m"}, env...)
}

func vulncheckArgs(t *testing.T, dir string, args []string, env ...string) (string, error) {
	cmd := exec.Command(input(t, "IMAGEVULNCHECK"), append([]string{"--image", dir, "--sbom", input(t, "SBOM")}, args...)...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "TMPDIR=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%v (%v):\n%s", env, err, out)
	return string(out), err
}

func TestVulncheckTimeout(t *testing.T) {
	dir, _ := imageDir(t)
	url, err := vulndbtest.Write(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := vulncheckArgs(t, dir, []string{"--timeout", "1ms"}, "GOVULNDB="+url)
	if err == nil || !strings.Contains(out, "vulnerability check timed out after --timeout 1ms") {
		t.Errorf("--timeout 1ms: err %v, output:\n%s", err, out)
	}
}

// nextPatch is version with its patch number plus one: "v5.5.0" -> "v5.5.1".
func nextPatch(t *testing.T, version string) string {
	i := strings.LastIndex(version, ".")
	n, err := strconv.Atoi(version[i+1:])
	if err != nil {
		t.Fatalf("version %s: patch is not a number", version)
	}
	return version[:i+1] + strconv.Itoa(n+1)
}

func TestSBOMPushedAsReferrer(t *testing.T) {
	_, digest := imageDir(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/cat-server"
	for _, script := range []string{input(t, "PUSH_SCRIPT"), input(t, "PUSH_SBOM_SCRIPT")} {
		if out, err := exec.Command(script, "-r", repo).CombinedOutput(); err != nil {
			t.Fatalf("%s -r %s: %v\n%s", script, repo, err, out)
		}
	}
	ref, err := name.NewDigest(repo + "@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(ref)
	if err != nil {
		t.Fatalf("referrers of %s: %v", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("%s has %d referrers, want 1: %+v", ref, len(im.Manifests), im.Manifests)
	}
	desc := im.Manifests[0]
	want := read(t, filepath.Join(input(t, "SBOM_ARTIFACT"), "index.json"))
	if !strings.Contains(string(want), desc.Digest.String()) {
		t.Errorf("referrer %s is not the manifest of //image:sbom_artifact:\n%s", desc.Digest, want)
	}
	// go-containerregistry's registry lists config.mediaType as the artifactType
	// (its referrers handler ignores the manifest's artifactType field, a TODO
	// there); conforming registries list the manifest's artifactType.
	t.Logf("listed artifactType: %q", desc.ArtifactType)
	img, err := remote.Image(ref.Context().Digest(desc.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != bom.MediaType {
		t.Errorf("referrer manifest artifactType %q, want %q", m.ArtifactType, bom.MediaType)
	}
	if m.Subject == nil || m.Subject.Digest.String() != digest {
		t.Errorf("referrer subject %+v, want %s", m.Subject, digest)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("referrer layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, read(t, input(t, "SBOM"))) {
		t.Error("the pushed SBOM differs from //image:sbom")
	}
}
