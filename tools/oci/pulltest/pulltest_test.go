package pulltest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/cst/check"
	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/oci/build"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/passwd"
	"github.com/cat-server/cat-server/tools/oci/pull"
	"github.com/cat-server/cat-server/tools/oci/pull/fakealpine"
	"github.com/google/go-cmp/cmp"
)

// The structure test run on every image built on the pulled base.
const structureTest = `schemaVersion: 2.0.0
metadataTest:
  user: "1000:1000"
  cmd: ["/bin/sh"]
  envVars:
    - key: PATH
      value: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
fileExistenceTests:
  - name: home of app
    path: /home/app
    permissions: drwxr-xr-x
    uid: 1000
    gid: 1000
  - name: alpine's shell
    path: /bin/sh
    isExecutableBy: any
fileContentTests:
  - name: passwd keeps alpine's users and adds app
    path: /etc/passwd
    expectedContents:
      - '(?m)^root:x:0:0:root:/root:/bin/sh$'
      - '(?m)^nobody:x:65534:65534:nobody:/:/sbin/nologin$'
      - '(?m)^app:x:1000:1000::/home/app:/sbin/nologin$'
  - name: group keeps alpine's groups and adds app
    path: /etc/group
    expectedContents:
      - '(?m)^root:x:0:root$'
      - '(?m)^dialout:x:20:root$'
      - '(?m)^nobody:x:65534:$'
      - '(?m)^app:x:1000:$'
`

func defaults(user, uid, gid string) passwd.Spec {
	return passwd.Spec{
		User: user, UID: uid, GID: gid,
		Sources: passwd.Sources{User: passwd.SourceDefault, UID: passwd.SourceDefault, GID: passwd.SourceDefault},
	}
}

func TestAlpineBase(t *testing.T) {
	f, err := fakealpine.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := fakealpine.Serve(t, f)
	cfg, err := config.Parse("alpine_structure_test.yaml", []byte(structureTest))
	if err != nil {
		t.Fatalf("parsing the structure test: %v", err)
	}

	for _, tc := range []struct {
		platform, wantArch string
	}{
		{"linux/amd64", "amd64"},
		{"linux/arm64/v8", "arm64"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			dir := t.TempDir()
			base := filepath.Join(dir, "base")
			if _, err := pull.Pull(context.Background(), pull.Options{
				Image: srv.Repo, Digest: f.IndexDigest.String(), Platform: tc.platform, Out: base,
			}); err != nil {
				t.Fatalf("Pull: %v", err)
			}

			// passwd_layer with the defaults app/1000/1000.
			spec := defaults("app", "1000", "1000")
			spec.Base = base
			spec.Out = filepath.Join(dir, "passwd.tar.gz")
			spec.InfoOut = filepath.Join(dir, "passwd.build_args.txt")
			if err := passwd.Build(spec); err != nil {
				t.Fatalf("passwd.Build: %v", err)
			}

			// oci_image(base = "@alpine", tars = [":passwd"], user = "1000:1000").
			out := filepath.Join(dir, "image")
			if _, err := build.Build(build.Spec{
				Base:      base,
				Tars:      []string{spec.Out},
				TarLabels: []string{"//pulltest:passwd"},
				User:      "1000:1000",
				Out:       out,
			}); err != nil {
				t.Fatalf("build.Build: %v", err)
			}
			img, err := ocilayout.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if got := cf.OS + "/" + cf.Architecture + "/" + cf.Variant; !strings.HasPrefix(tc.platform+"/", strings.TrimSuffix(got, "/")+"/") {
				t.Errorf("image platform = %s, want %s", got, tc.platform)
			}
			root, err := imagefs.New(img)
			if err != nil {
				t.Fatal(err)
			}
			arch, err := root.ReadFile("/etc/apk/arch")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(arch)); got != tc.wantArch {
				t.Errorf("/etc/apk/arch = %q, want %q: the wrong platform's layer was pulled", got, tc.wantArch)
			}
			gotPasswd, err := root.ReadFile("/etc/passwd")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fakealpine.Passwd+"app:x:1000:1000::/home/app:/sbin/nologin\n", string(gotPasswd)); diff != "" {
				t.Errorf("/etc/passwd (-want +got):\n%s", diff)
			}
			gotGroup, err := root.ReadFile("/etc/group")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fakealpine.Group+"app:x:1000:\n", string(gotGroup)); diff != "" {
				t.Errorf("/etc/group (-want +got):\n%s", diff)
			}

			// The structure-test runner's checks.
			var results []check.Result
			results = append(results, check.Metadata("alpine_structure_test.yaml", cfg.MetadataTest, cf)...)
			results = append(results, check.FileExistence("alpine_structure_test.yaml", cfg.FileExistenceTests, root)...)
			results = append(results, check.FileContent("alpine_structure_test.yaml", cfg.FileContentTests, root)...)
			if len(results) == 0 {
				t.Fatal("the structure test ran no checks")
			}
			for _, r := range results {
				for _, l := range r.Lines() {
					if !r.Passed() {
						t.Error(l)
					} else {
						t.Log(l)
					}
				}
			}
		})
	}
}

func TestAlpineBaseClashes(t *testing.T) {
	f, err := fakealpine.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := fakealpine.Serve(t, f)
	base := filepath.Join(t.TempDir(), "base")
	if _, err := pull.Pull(context.Background(), pull.Options{
		Image: srv.Repo, Digest: f.IndexDigest.String(), Platform: "linux/amd64", Out: base,
	}); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	for _, tc := range []struct {
		name             string
		user, uid, gid   string
		wantErrSubstring []string
	}{
		{"gid of alpine's dialout", "app", "1000", "20", []string{"--define gid=20", `gid 20 is already group "dialout"`}},
		{"uid of alpine's nobody", "app", "65534", "1000", []string{"--define uid=65534", `uid 65534 is already user "nobody"`}},
		{"alpine's user with another uid", "nobody", "1000", "1000", []string{"--define user=nobody", `user "nobody" already exists with uid 65534`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := passwd.Spec{
				User: tc.user, UID: tc.uid, GID: tc.gid,
				Sources: passwd.Sources{User: passwd.SourceDefine, UID: passwd.SourceDefine, GID: passwd.SourceDefine},
				Base:    base,
				Out:     filepath.Join(t.TempDir(), "passwd.tar.gz"),
				InfoOut: filepath.Join(t.TempDir(), "info.txt"),
			}
			err := passwd.Build(spec)
			if err == nil {
				t.Fatalf("passwd.Build(%s/%s/%s) succeeded, want a clash with alpine's entries", tc.user, tc.uid, tc.gid)
			}
			for _, w := range tc.wantErrSubstring {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}
