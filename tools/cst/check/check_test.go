package check

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	ti "github.com/cat-server/cat-server/tools/cst/testimage"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// lines renders results as cst prints them.
func lines(results []Result) []string {
	var out []string
	for _, r := range results {
		out = append(out, r.Lines()...)
	}
	return out
}

func parse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse("c.yaml", []byte("schemaVersion: 2.0.0\n"+yaml))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return c
}

var metaConfig = &v1.ConfigFile{Config: v1.Config{
	User:         "65532",
	Env:          []string{"PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"},
	Labels:       map[string]string{"org.opencontainers.image.source": "https://github.com/cat-server/cat-server", "version": "1.2.3"},
	ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/udp": {}, "7070": {}},
	Entrypoint:   []string{"/app/cat-server"},
	Cmd:          []string{"serve"},
	WorkingDir:   "/app",
	Volumes:      map[string]struct{}{"/data": {}},
}}

func TestMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"user ok", `user: "65532"`, []string{"PASS c.yaml: metadataTest: user"}},
		{"wrong user", `user: nonroot`, []string{`FAIL c.yaml: metadataTest: user: expected "nonroot", got "65532"`}},
		{
			"exposed ports: the protocol is stripped, as upstream's drivers do",
			`exposedPorts: ["8080", "8080/tcp", "9090", "9090/udp", "7070", "443"]`,
			[]string{
				"PASS c.yaml: metadataTest: exposedPorts[8080]",
				`FAIL c.yaml: metadataTest: exposedPorts[8080/tcp]: expected port 8080/tcp to be exposed, got exposed ports [7070 8080 9090] (ports are compared without their protocol, as container-structure-test does: write "8080")`,
				"PASS c.yaml: metadataTest: exposedPorts[9090]",
				`FAIL c.yaml: metadataTest: exposedPorts[9090/udp]: expected port 9090/udp to be exposed, got exposed ports [7070 8080 9090] (ports are compared without their protocol, as container-structure-test does: write "9090")`,
				"PASS c.yaml: metadataTest: exposedPorts[7070]",
				"FAIL c.yaml: metadataTest: exposedPorts[443]: expected port 443 to be exposed, got exposed ports [7070 8080 9090]",
			},
		},
		{
			"unexposedPorts: a port with a protocol never matches",
			`unexposedPorts: ["22", "9090/udp", "8080"]`,
			[]string{
				"PASS c.yaml: metadataTest: unexposedPorts[22]",
				"PASS c.yaml: metadataTest: unexposedPorts[9090/udp]",
				"FAIL c.yaml: metadataTest: unexposedPorts[8080]: expected port 8080 not to be exposed, got exposed ports [7070 8080 9090]",
			},
		},
		{"empty user and workdir are not checked", "user: \"\"\nworkdir: \"\"", nil},
		{
			"unboundEnvVars",
			"unboundEnvVars:\n  - {key: DEBUG}\n  - {key: LANG}",
			[]string{
				"PASS c.yaml: metadataTest: unboundEnvVars[DEBUG]",
				`FAIL c.yaml: metadataTest: unboundEnvVars[LANG]: expected no LANG in the image env, got LANG="C.UTF-8"`,
			},
		},
		{
			"env vars",
			"envVars:\n  - {key: LANG, value: C.UTF-8}\n  - {key: PATH, value: '(^|:)/usr/bin(:|$)', isRegex: true}\n  - {key: PATH, value: '^/sbin', isRegex: true}\n  - {key: LANG, value: en_US}\n  - {key: HOME, value: /home}",
			[]string{
				"PASS c.yaml: metadataTest: envVars[LANG]",
				"PASS c.yaml: metadataTest: envVars[PATH]",
				`FAIL c.yaml: metadataTest: envVars[PATH]: expected PATH matching "^/sbin", got PATH="/usr/local/bin:/usr/bin"`,
				`FAIL c.yaml: metadataTest: envVars[LANG]: expected LANG="en_US", got LANG="C.UTF-8"`,
				`FAIL c.yaml: metadataTest: envVars[HOME]: expected HOME="/home", got no HOME in the image env (it has [PATH LANG])`,
			},
		},
		{
			"labels",
			"labels:\n  - {key: version, value: 1.2.3}\n  - {key: version, value: '^\\d+\\.\\d+\\.\\d+$', isRegex: true}\n  - {key: org.opencontainers.image.source, value: https://example.com}\n  - {key: maintainer, value: cats}",
			[]string{
				"PASS c.yaml: metadataTest: labels[version]",
				"PASS c.yaml: metadataTest: labels[version]",
				`FAIL c.yaml: metadataTest: labels[org.opencontainers.image.source]: expected org.opencontainers.image.source="https://example.com", got org.opencontainers.image.source="https://github.com/cat-server/cat-server"`,
				`FAIL c.yaml: metadataTest: labels[maintainer]: expected maintainer="cats", got no label maintainer on the image (it has [org.opencontainers.image.source version])`,
			},
		},
		{
			"entrypoint cmd workdir pass",
			"entrypoint: [/app/cat-server]\ncmd: [serve]\nworkdir: /app",
			[]string{"PASS c.yaml: metadataTest: entrypoint", "PASS c.yaml: metadataTest: cmd", "PASS c.yaml: metadataTest: workdir"},
		},
		{
			"entrypoint cmd workdir fail",
			"entrypoint: []\ncmd: [serve, --debug]\nworkdir: /",
			[]string{
				`FAIL c.yaml: metadataTest: entrypoint: expected [], got ["/app/cat-server"]`,
				`FAIL c.yaml: metadataTest: cmd: expected ["serve" "--debug"], got ["serve"]`,
				`FAIL c.yaml: metadataTest: workdir: expected "/", got "/app"`,
			},
		},
		{
			"volumes",
			"volumes: [/data, /cache]\nunmountedVolumes: [/tmp, /data]",
			[]string{
				"PASS c.yaml: metadataTest: volumes[/data]",
				"FAIL c.yaml: metadataTest: volumes[/cache]: expected volume /cache, got volumes [/data]",
				"PASS c.yaml: metadataTest: unmountedVolumes[/tmp]",
				"FAIL c.yaml: metadataTest: unmountedVolumes[/data]: expected no volume /data, got volumes [/data]",
			},
		},
		{"absent fields are not checked", "{}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "metadataTest:\n  "+strings.ReplaceAll(tc.yaml, "\n", "\n  "))
			got := lines(Metadata("c.yaml", c.MetadataTest, metaConfig))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnsetUser(t *testing.T) {
	c := parse(t, "metadataTest:\n  user: nonroot\n")
	got := lines(Metadata("c.yaml", c.MetadataTest, &v1.ConfigFile{}))
	want := []string{`FAIL c.yaml: metadataTest: user: expected "nonroot", got "" (unset: root)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// fsImage is a two-layer image; the upper layer deletes files of the lower
// one with a whiteout and an opaque whiteout.
func fsImage(t *testing.T) v1.Image {
	return ti.Image(t, v1.Config{},
		ti.Layer(t,
			ti.Dir("etc/", 0o755),
			ti.File("etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"),
			ti.File("etc/shadow", 0o640, "root:*:"),
			ti.Dir("etc/ssl/", 0o755),
			ti.File("etc/ssl/old.pem", 0o644, "old"),
			ti.Dir("tmp/", 0o1777),
			ti.Dir("usr/bin/", 0o755),
			ti.File("usr/bin/su", 0o4755, "su"),
		),
		ti.Layer(t,
			ti.Whiteout("etc/shadow"),
			ti.Opaque("etc/ssl"),
			ti.File("etc/ssl/new.pem", 0o644, "new"),
			ti.Dir("app/", 0o755).Owned(65532, 65532),
			ti.File("app/cat-server", 0o750, "\x7fELF").Owned(0, 65532),
			ti.File("app/config.yaml", 0o640, "listen: :8080\nlog: info\n").Owned(65532, 65532),
			ti.Symlink("app/current", "/app/cat-server"),
		),
	)
}

func fsOf(t *testing.T, img v1.Image) *imagefs.FS {
	t.Helper()
	back, err := ocilayout.Read(ti.WriteLayout(t, img))
	if err != nil {
		t.Fatal(err)
	}
	f, err := imagefs.New(back)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFileExistence(t *testing.T) {
	root := fsOf(t, fsImage(t))
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"present", "{name: passwd, path: /etc/passwd}", []string{"PASS c.yaml: passwd"}},
		{"whiteout deletes", "{name: no shadow, path: /etc/shadow, shouldExist: false}", []string{"PASS c.yaml: no shadow"}},
		{"opaque whiteout deletes", "{name: no old pem, path: /etc/ssl/old.pem, shouldExist: false}", []string{"PASS c.yaml: no old pem"}},
		{"opaque dir keeps its own layer", "{name: new pem, path: /etc/ssl/new.pem}", []string{"PASS c.yaml: new pem"}},
		{"whited-out file expected", "{name: shadow, path: /etc/shadow}", []string{"FAIL c.yaml: shadow: shouldExist: expected /etc/shadow to exist, got nothing at that path in the merged filesystem"}},
		{"present but should not exist", "{name: no su, path: /usr/bin/su, shouldExist: false}", []string{"FAIL c.yaml: no su: shouldExist: expected /usr/bin/su not to exist, got urwxr-xr-x /usr/bin/su"}},
		{"sticky dir in ls notation fails", "{name: tmp, path: /tmp, permissions: drwxrwxrwt}", []string{`FAIL c.yaml: tmp: permissions: expected "drwxrwxrwt", got "dtrwxrwxrwx" (mode 1777); the expected value is ls notation, container-structure-test compares Go's FileMode notation`}},
		{"sticky dir in Go's notation", "{name: tmp, path: /tmp, permissions: dtrwxrwxrwx}", []string{"PASS c.yaml: tmp"}},
		{"setuid in Go's notation", "{name: su, path: /usr/bin/su, permissions: urwxr-xr-x}", []string{"PASS c.yaml: su"}},
		{"setuid missing in expectation", "{name: su, path: /usr/bin/su, permissions: -rwxr-xr-x}", []string{`FAIL c.yaml: su: permissions: expected "-rwxr-xr-x", got "urwxr-xr-x" (mode 4755)`}},
		{"wrong permissions", "{name: tmp, path: /tmp, permissions: drwxr-xr-x}", []string{`FAIL c.yaml: tmp: permissions: expected "drwxr-xr-x", got "dtrwxrwxrwx" (mode 1777)`}},
		{"regular file: ls and Go notation agree", "{name: passwd, path: /etc/passwd, permissions: -rw-r--r--}", []string{"PASS c.yaml: passwd"}},
		{"uid gid", "{name: app, path: /app/cat-server, uid: 0, gid: 65532}", []string{"PASS c.yaml: app"}},
		{
			"wrong uid gid", "{name: app, path: /app/cat-server, uid: 65532, gid: 0}",
			[]string{"FAIL c.yaml: app: uid: expected 65532, got 0", "FAIL c.yaml: app: gid: expected 0, got 65532"},
		},
		{"uid 0 is checked", "{name: cfg, path: /app/config.yaml, uid: 0}", []string{"FAIL c.yaml: cfg: uid: expected 0, got 65532"}},
		{"uid and gid -1 are not checked", "{name: cfg, path: /app/config.yaml, uid: -1, gid: -1}", []string{"PASS c.yaml: cfg"}},
		{"gid checked when uid is -1", "{name: cfg, path: /app/config.yaml, uid: -1, gid: 0}", []string{"FAIL c.yaml: cfg: gid: expected 0, got 65532"}},
		{"uid -2 is a value", "{name: cfg, path: /app/config.yaml, uid: -2}", []string{"FAIL c.yaml: cfg: uid: expected -2, got 65532"}},
		{"unknown isExecutableBy", "{name: app, path: /app/cat-server, isExecutableBy: everyone}", []string{"FAIL c.yaml: app: isExecutableBy: everyone not recognised as a valid option (owner, group, other, any)"}},
		{"relative path from /", "{name: passwd, path: etc/passwd}", []string{"PASS c.yaml: passwd"}},
		{"executable by owner", "{name: app, path: /app/cat-server, isExecutableBy: owner}", []string{"PASS c.yaml: app"}},
		{"executable by group", "{name: app, path: /app/cat-server, isExecutableBy: group}", []string{"PASS c.yaml: app"}},
		{"executable by any", "{name: app, path: /app/cat-server, isExecutableBy: any}", []string{"PASS c.yaml: app"}},
		{"not executable by other", "{name: app, path: /app/cat-server, isExecutableBy: other}", []string{"FAIL c.yaml: app: isExecutableBy: expected /app/cat-server executable by other, got -rwxr-x---"}},
		{"a symlink is executable by any (its own mode)", "{name: current, path: /app/current, isExecutableBy: any}", []string{"PASS c.yaml: current"}},
		{"not executable at all", "{name: cfg, path: /app/config.yaml, isExecutableBy: any}", []string{"FAIL c.yaml: cfg: isExecutableBy: expected /app/config.yaml executable by any, got -rw-r-----"}},
		{"symlink not followed", "{name: current, path: /app/current, permissions: -rwxr-x---}", []string{`FAIL c.yaml: current: permissions: expected "-rwxr-x---", got "Lrwxrwxrwx" (mode 0777)`}},
		{"symlink itself, Go's notation", "{name: current, path: /app/current, permissions: Lrwxrwxrwx}", []string{"PASS c.yaml: current"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "fileExistenceTests:\n  - "+tc.yaml)
			got := lines(FileExistence("c.yaml", c.FileExistenceTests, root))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileExistenceEnvAndDriver(t *testing.T) {
	root := fsOf(t, fsImage(t))
	env := EnvMap([]string{"APP=/app", "HOME=/root"}, []config.EnvVar{{Key: "HOME", Value: "/etc"}})
	for _, tc := range []struct {
		name, yaml string
		opts       FileOptions
		want       []string
	}{
		{"$VAR from the image env", "{name: bin, path: $APP/cat-server}", FileOptions{Env: env}, []string{"PASS c.yaml: bin"}},
		{"${VAR}, globalEnvVars over the image env", "{name: pw, path: '${HOME}/passwd'}", FileOptions{Env: env}, []string{"PASS c.yaml: pw"}},
		{"unset var expands to nothing", "{name: pw, path: $NOPE/etc/passwd}", FileOptions{Env: env}, []string{"PASS c.yaml: pw"}},
		{"expanded path shown on failure", "{name: x, path: $APP/nope}", FileOptions{Env: env}, []string{"FAIL c.yaml: x: shouldExist: expected $APP/nope (/app/nope) to exist, got nothing at that path in the merged filesystem"}},
		{"tar driver cannot check ownership", "{name: app, path: /app/cat-server, uid: 0}", FileOptions{NoOwnership: true}, []string{"FAIL c.yaml: app: uid: the tar driver cannot check ownership of /app/cat-server (use driver docker, or leave uid and gid out)"}},
		{"tar driver, ownership unchecked", "{name: app, path: /app/cat-server, uid: -1}", FileOptions{NoOwnership: true}, []string{"PASS c.yaml: app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "fileExistenceTests:\n  - "+tc.yaml)
			got := lines(FileExistenceWith("c.yaml", c.FileExistenceTests, root, tc.opts))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileContent(t *testing.T) {
	root := fsOf(t, fsImage(t))
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"match", `{name: passwd, path: /etc/passwd, expectedContents: ['nonroot:x:65532', '(?m)^root:'], excludedContents: ['/bin/(ba)?sh']}`, []string{"PASS c.yaml: passwd"}},
		{
			"expected missing", `{name: passwd, path: /etc/passwd, expectedContents: ['^bob:']}`,
			[]string{`FAIL c.yaml: passwd: expectedContents[0]: expected content of /etc/passwd to match "^bob:", got no match in "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"`},
		},
		{
			"excluded present", `{name: cfg, path: /app/config.yaml, excludedContents: ['log: (debug|info)']}`,
			[]string{`FAIL c.yaml: cfg: excludedContents[0]: expected content of /app/config.yaml not to match "log: (debug|info)", got a match in "listen: :8080\nlog: info\n"`},
		},
		{"through a symlink", `{name: current, path: /app/current, expectedContents: ['ELF']}`, []string{"PASS c.yaml: current"}},
		{"missing file", `{name: shadow, path: /etc/shadow, expectedContents: ['.']}`, []string{"FAIL c.yaml: shadow: path: expected a file at /etc/shadow, got nothing at that path in the merged filesystem"}},
		{"directory", `{name: etc, path: /etc, expectedContents: ['.']}`, []string{"FAIL c.yaml: etc: path: /etc is not a regular file (drwxr-xr-x)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "fileContentTests:\n  - "+tc.yaml)
			got := lines(FileContent("c.yaml", c.FileContentTests, root))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func parseChecks(t *testing.T, yaml string) *config.ImageChecks {
	t.Helper()
	c, err := config.ParseImageChecks("checks.yaml", []byte("schemaVersion: cat-server.image-checks/v1\n"+yaml))
	if err != nil {
		t.Fatalf("config.ParseImageChecks: %v", err)
	}
	return c
}

func TestMeasureSizes(t *testing.T) {
	noise := make([]byte, 20000)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(noise)
	entries := []ti.Entry{ti.File("blob", 0o644, string(noise)), ti.File("zeros", 0o644, strings.Repeat("\x00", 100000))}
	img := ti.Image(t, v1.Config{}, ti.Layer(t, entries...), ti.Layer(t, ti.File("small", 0o644, "x")))
	got, err := MeasureSizes(img)
	if err != nil {
		t.Fatal(err)
	}
	wantUncompressed := int64(len(ti.Tar(t, entries...)) + len(ti.Tar(t, ti.File("small", 0o644, "x"))))
	m, _ := img.Manifest()
	raw, _ := img.RawManifest()
	wantCompressed := int64(len(raw)) + m.Config.Size + m.Layers[0].Size + m.Layers[1].Size
	if diff := cmp.Diff(Sizes{Compressed: wantCompressed, Uncompressed: wantUncompressed}, got); diff != "" {
		t.Errorf("MeasureSizes mismatch (-want +got):\n%s", diff)
	}
	if got.Compressed < 20000 || got.Compressed > 40000 {
		t.Errorf("compressed = %d, want about 20 kB (the random blob does not compress, the zeros do)", got.Compressed)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{999: "999 B", 1000: "1.0 kB", 4123456: "4.1 MB", 10000000: "10.0 MB", 3_500_000_000: "3.5 GB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestImageChecks(t *testing.T) {
	sizes := &Sizes{Compressed: 4123456, Uncompressed: 12000000}
	hc := &v1.HealthConfig{Test: []string{"CMD", "/app/cat-server", "healthcheck"}, Interval: time.Minute, Timeout: 3 * time.Second, StartPeriod: 5 * time.Second, Retries: 3}
	root := fsOf(t, fsImage(t))
	for _, tc := range []struct {
		name, yaml string
		hc         *v1.HealthConfig
		want       []string
	}{
		{
			"sizes within limits", "size: {maxCompressedBytes: 10000000, maxUncompressedBytes: 50000000}", nil,
			[]string{
				"PASS checks.yaml: size: compressed 4.1 MB (4123456 bytes) <= 10000000",
				"PASS checks.yaml: size: uncompressed 12.0 MB (12000000 bytes) <= 50000000",
			},
		},
		{
			"oversized", "size: {maxCompressedBytes: 4000000, maxUncompressedBytes: 10000000}", nil,
			[]string{
				"FAIL checks.yaml: size: maxCompressedBytes: expected compressed size <= 4000000 bytes (4.0 MB), got 4123456 bytes (4.1 MB), 123456 bytes over",
				"FAIL checks.yaml: size: maxUncompressedBytes: expected uncompressed size <= 10000000 bytes (10.0 MB), got 12000000 bytes (12.0 MB), 2000000 bytes over",
			},
		},
		{
			"missing healthcheck", `healthcheck: {test: ["CMD", "/app/cat-server", "healthcheck"]}`, nil,
			[]string{`FAIL checks.yaml: healthcheck: image has no HEALTHCHECK (expected test ["CMD" "/app/cat-server" "healthcheck"])`},
		},
		{
			"HEALTHCHECK NONE", `healthcheck: {retries: 3}`, &v1.HealthConfig{Test: []string{"NONE"}},
			[]string{`FAIL checks.yaml: healthcheck: image has no HEALTHCHECK (HEALTHCHECK NONE)`},
		},
		{
			"healthcheck", "healthcheck:\n  test: [CMD, /app/cat-server, healthcheck]\n  interval: 1m\n  timeout: 3s\n  startPeriod: 5s\n  retries: 3", hc,
			[]string{
				"PASS checks.yaml: healthcheck.test",
				"PASS checks.yaml: healthcheck.interval",
				"PASS checks.yaml: healthcheck.timeout",
				"PASS checks.yaml: healthcheck.startPeriod",
				"PASS checks.yaml: healthcheck.retries",
			},
		},
		{
			"wrong healthcheck", "healthcheck:\n  test: [CMD-SHELL, curl -f localhost]\n  interval: 30s\n  retries: 5", hc,
			[]string{
				`FAIL checks.yaml: healthcheck.test: expected ["CMD-SHELL" "curl -f localhost"], got ["CMD" "/app/cat-server" "healthcheck"]`,
				"FAIL checks.yaml: healthcheck.interval: expected 30s, got 1m0s",
				"FAIL checks.yaml: healthcheck.retries: expected 5, got 3",
			},
		},
		{
			"unset interval", "healthcheck: {interval: 30s}", &v1.HealthConfig{Test: []string{"CMD", "/hc"}},
			[]string{"FAIL checks.yaml: healthcheck.interval: expected 30s, got 0s (unset: engine default)"},
		},
		{"any healthcheck", "healthcheck: {}", hc, []string{`PASS checks.yaml: healthcheck: present: ["CMD" "/app/cat-server" "healthcheck"]`}},
		{
			"setuid file", "noSetuidFiles: true", nil,
			[]string{"FAIL checks.yaml: noSetuidFiles: /usr/bin/su: expected no setuid/setgid bit, got -rwsr-xr-x (mode 4755, uid 0, gid 0)"},
		},
		{"noSetuidFiles false", "noSetuidFiles: false", nil, nil},
		{"only the expected port", `exposedPortsExactly: ["8080"]`, nil, []string{"PASS checks.yaml: exposedPortsExactly"}},
		{
			"extra port", `exposedPortsExactly: ["8080/tcp", "9090/udp"]`, nil,
			[]string{`FAIL checks.yaml: exposedPortsExactly: expected ["8080/tcp" "9090/udp"], got ["8080/tcp"]`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cf := &v1.ConfigFile{Config: v1.Config{Healthcheck: tc.hc, ExposedPorts: map[string]struct{}{"8080/tcp": {}}}}
			got := lines(ImageChecks("checks.yaml", parseChecks(t, tc.yaml), cf, sizes, root))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoSetuidFilesPassesAndIgnoresSetgidDirs(t *testing.T) {
	img := ti.Image(t, v1.Config{}, ti.Layer(t, ti.Dir("var/mail/", 0o2775), ti.File("bin/app", 0o755, "x")),
		ti.Layer(t, ti.Whiteout("bin/app"), ti.File("bin/app", 0o755, "y")))
	got := lines(ImageChecks("checks.yaml", parseChecks(t, "noSetuidFiles: true"), &v1.ConfigFile{}, nil, fsOf(t, img)))
	if diff := cmp.Diff([]string{"PASS checks.yaml: noSetuidFiles"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	// A setuid file deleted by an upper layer does not count either.
	img = ti.Image(t, v1.Config{}, ti.Layer(t, ti.File("bin/su", 0o4755, "x")), ti.Layer(t, ti.Whiteout("bin/su")))
	got = lines(ImageChecks("checks.yaml", parseChecks(t, "noSetuidFiles: true"), &v1.ConfigFile{}, nil, fsOf(t, img)))
	if diff := cmp.Diff([]string{"PASS checks.yaml: noSetuidFiles"}, got); diff != "" {
		t.Errorf("whited-out setuid file: mismatch (-want +got):\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	rs := []Result{{Name: "a"}, {Name: "b", Failures: []Failure{{Message: "x"}, {Message: "y"}}}, {Name: "c"}}
	if got, want := Summary(rs), "2 passed, 1 failed"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := fmt.Sprint(Summary(nil)); got != "0 passed, 0 failed" {
		t.Errorf("Summary(nil) = %q", got)
	}
}

func TestLicenses(t *testing.T) {
	img := ti.Image(t, v1.Config{}, ti.Layer(t,
		ti.Dir("usr/share/doc/", 0o755),
		ti.Dir("usr/share/doc/libc6/", 0o755),
		ti.File("usr/share/doc/libc6/copyright", 0o644, "GNU Lesser General Public License"),
		ti.Dir("usr/share/doc/libgnutls30/", 0o755), // allowed without a copyright file
		ti.File("LICENSE", 0o644, "Apache License 2.0"),
		ti.File("BAD", 0o644, "Licensed under the Affero GPL (agpl-3.0)"),
	))
	root := fsOf(t, img)
	noDoc := fsOf(t, ti.Image(t, v1.Config{}, ti.Layer(t, ti.File("LICENSE", 0o644, "MIT"))))
	withBadPkg := fsOf(t, ti.Image(t, v1.Config{}, ti.Layer(t,
		ti.Dir("usr/share/doc/", 0o755),
		ti.Dir("usr/share/doc/x/", 0o755),
		ti.File("usr/share/doc/x/copyright", 0o644, "Do What The F*ck You Want To Public License (WTFPL)"),
		ti.Dir("usr/share/doc/nolicense/", 0o755),
	)))
	for _, tc := range []struct {
		name, yaml string
		root       *imagefs.FS
		want       []string
	}{
		{"debian packages", "{debian: true}", root, []string{"PASS c.yaml: licenseTests[0]"}},
		{"files", "{files: [/LICENSE]}", root, []string{"PASS c.yaml: licenseTests[0]"}},
		{"refused license in a file", "{files: [/LICENSE, /BAD]}", root, []string{"FAIL c.yaml: licenseTests[0]: files[1]: invalid license for /BAD: it contains AGPL"}},
		{"missing file", "{files: [/NOPE]}", root, []string{"FAIL c.yaml: licenseTests[0]: files[0]: reading license file /NOPE: "}},
		{"no /usr/share/doc", "{debian: true}", noDoc, []string{"FAIL c.yaml: licenseTests[0]: debian: reading directory /usr/share/doc: not a directory in the image"}},
		{"refused and missing package licenses", "{debian: true}", withBadPkg, []string{
			"FAIL c.yaml: licenseTests[0]: debian: reading license file /usr/share/doc/nolicense/copyright: ",
			"FAIL c.yaml: licenseTests[0]: debian: invalid license for /usr/share/doc/x/copyright: it contains WTFPL",
		}},
		{"debian false checks nothing", "{debian: false}", noDoc, []string{"PASS c.yaml: licenseTests[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "licenseTests:\n  - "+tc.yaml)
			var got []string
			for _, l := range lines(Licenses("c.yaml", c.LicenseTests, tc.root)) {
				got = append(got, strings.Split(l, "\n")...)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(strings.TrimSpace(got[i]), tc.want[i]) {
					t.Errorf("line %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}
