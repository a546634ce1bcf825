"""The Go SDK pinned by go.mod, fetched from the Go module proxy like the `go` command does.

The version is go.mod's `toolchain` line (else its `go` line). The SDK comes as the module
golang.org/toolchain@v0.0.1-go<VERSION>.<GOOS>-<GOARCH> from the proxy named by GOPROXY
(else by `go env GOPROXY` of whatever go is on PATH), and the zip must match the sha256
pinned in toolchain.sums. MODULE.bazel hands the result to rules_go with go_sdk.wrap:

    go_toolchain = use_extension("//tools/gosdk:sdk.bzl", "go_toolchain")
    go_toolchain.from_go_mod(go_mod = "//:go.mod", sums = "//tools/gosdk:toolchain.sums")
    use_repo(go_toolchain, "go_pinned_sdk")
    go_sdk.wrap(root_file = "@go_pinned_sdk//:VERSION")
"""

_MODULE = "golang.org/toolchain"

def _fields(line):
    return [f for f in line.replace("\t", " ").split(" ") if f]

def go_version_from_go_mod(content, path):
    """Returns the Go version go.mod pins: its toolchain line, else its go line.

    Args:
      content: the text of go.mod.
      path: its name, for error messages.

    Returns:
      The version, e.g. "1.26.8".
    """
    go_line = None
    toolchain_line = None
    for line in content.splitlines():
        fields = _fields(line.split("//")[0])
        if len(fields) == 2 and fields[0] == "toolchain":
            toolchain_line = fields[1]
        elif len(fields) == 2 and fields[0] == "go":
            go_line = fields[1]
    if toolchain_line:
        if not toolchain_line.startswith("go"):
            fail("{}: toolchain line {} must look like go1.N.P".format(path, toolchain_line))
        version = toolchain_line[2:]
    elif go_line:
        version = go_line
    else:
        fail("{}: no toolchain or go line to take the Go version from".format(path))
    if len(version.split(".")) < 3:
        fail("{}: Go version {} names no release (need 1.N.P; add a line 'toolchain go{}.0')".format(path, version, version))
    return version

def proxy_urls(goproxy, source):
    """Returns the proxy base URLs of a GOPROXY value, in order ("direct" and "off" dropped).

    Args:
      goproxy: the GOPROXY value (entries separated by "," or "|").
      source: where it came from, for error messages.

    Returns:
      A list of URLs without a trailing "/".
    """
    urls = []
    for entry in goproxy.replace("|", ",").split(","):
        entry = entry.strip().rstrip("/")
        if entry in ("", "direct", "off"):
            continue
        if not (entry.startswith("https://") or entry.startswith("http://") or entry.startswith("file://")):
            fail("GOPROXY entry {} (from {}) is not an http(s):// or file:// URL".format(entry, source))
        urls.append(entry)
    return urls

def _goproxy(rctx):
    value = rctx.getenv("GOPROXY")
    if value:
        return value, "the GOPROXY environment variable"
    go = rctx.which("go")
    if go:
        res = rctx.execute([go, "env", "GOPROXY"], environment = {"GOTOOLCHAIN": "local", "GOFLAGS": ""})
        if res.return_code == 0 and res.stdout.strip():
            return res.stdout.strip(), "`{} env GOPROXY`".format(go)
    return "", ""

def _platform(rctx):
    os = rctx.os.name.lower()
    if os.startswith("linux"):
        goos = "linux"
    elif os.startswith("mac os"):
        goos = "darwin"
    else:
        fail("go_pinned_sdk: host OS {} is not supported".format(rctx.os.name))
    arch = rctx.os.arch.lower()
    goarch = {"amd64": "amd64", "x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(arch)
    if not goarch:
        fail("go_pinned_sdk: host architecture {} is not supported".format(rctx.os.arch))
    return goos, goarch

def _read_sums(rctx, label):
    sums = {}
    for n, line in enumerate(rctx.read(label).splitlines()):
        fields = _fields(line.split("#")[0])
        if not fields:
            continue
        if len(fields) < 3 or not fields[2].startswith("sha256:"):
            fail("{}:{}: want '<module> <version> sha256:<hex> [h1:...]', got {}".format(label, n + 1, line))
        sums[fields[0] + "@" + fields[1]] = fields[2][len("sha256:"):]
    return sums

def _go_pinned_sdk_impl(rctx):
    version = go_version_from_go_mod(rctx.read(rctx.attr.go_mod), str(rctx.attr.go_mod))
    goos, goarch = _platform(rctx)
    mod_version = "v0.0.1-go{}.{}-{}".format(version, goos, goarch)
    key = _MODULE + "@" + mod_version
    sha256 = _read_sums(rctx, rctx.attr.sums).get(key)
    if not sha256:
        fail(("{} has no checksum for {} (Go {} from {}); add it with tools/gosdk/update-sums.sh").format(
            rctx.attr.sums,
            key,
            version,
            rctx.attr.go_mod,
        ))

    # An SDK that provisioning (tools/provision/offline-modules.sh) already unpacked from
    # the same zip, checked against the same sha256: linked, not extracted again.
    unpacked = rctx.getenv("CAT_SERVER_GO_SDK_CACHE")
    if unpacked:
        root = rctx.path(unpacked + "/" + mod_version)
        marker = rctx.path(unpacked + "/" + mod_version + ".sha256")
        if marker.exists and rctx.read(marker).strip() == sha256 and root.get_child("bin").get_child("go").exists:
            for entry in root.readdir():
                if entry.basename not in ("bin", "go.env"):
                    rctx.symlink(entry, entry.basename)

            # bin/go is copied, not linked: the go command takes GOROOT from where its
            # binary really is, and reads GOROOT/go.env, which must be this repository's.
            for tool in root.get_child("bin").readdir():
                if tool.basename == "go":
                    res = rctx.execute(["sh", "-c", 'mkdir -p bin && cp -p "$1" bin/go', "-", str(tool)])
                    if res.return_code != 0:
                        fail("go_pinned_sdk: copying {}: {}".format(tool, res.stderr))
                else:
                    rctx.symlink(tool, "bin/" + tool.basename)
            _write_go_env(rctx, rctx.read(root.get_child("go.env")))
            rctx.file("BUILD.bazel", _BUILD)
            return

    goproxy, source = _goproxy(rctx)
    urls = proxy_urls(goproxy, source) if goproxy else []
    if not urls:
        fail(("go_pinned_sdk: no Go module proxy to fetch {} from: set GOPROXY " +
              "(e.g. export GOPROXY=https://<your proxy>), as for the go command{}").format(
            key,
            " (GOPROXY from {} is {})".format(source, goproxy) if source else "",
        ))

    rctx.report_progress("Downloading " + key)
    rctx.download_and_extract(
        url = ["{}/{}/@v/{}.zip".format(u, _MODULE, mod_version) for u in urls],
        sha256 = sha256,
        type = "zip",
        stripPrefix = key,
    )

    # Module zips keep no file modes; the go command marks these executable the same way.
    res = rctx.execute(["sh", "-c", "chmod +x bin/* pkg/tool/*/* && test -x bin/go"])
    if res.return_code != 0:
        fail("go_pinned_sdk: {} has no bin/go or pkg/tool: {}".format(key, res.stderr))
    got = rctx.read("VERSION").splitlines()[0].strip()
    if got != "go" + version:
        fail("go_pinned_sdk: {} holds {}, not go{}".format(key, got, version))
    _write_go_env(rctx, rctx.read("go.env"))
    rctx.file("BUILD.bazel", _BUILD)

# rules_go builds its builder (GoToolchainBinaryBuild, the first step of every cold build)
# with `go build` under GOMAXPROCS=1, which makes the go command compile one package at a
# time (-p defaults to GOMAXPROCS). GOFLAGS in GOROOT/go.env is the only setting that
# reaches that action: -p=4 lets it compile packages in parallel (about 30 % faster on 2
# cores). -p changes no output. The standard library is built with a GOROOT of its own
# and is not affected; an explicit GOFLAGS in an action's environment overrides this.
_GO_ENV_FLAGS = "GOFLAGS=-p=4"

# VERSION for go_sdk.wrap; go.env and bin/go for //tools/gosdk:gosdk_test.
_BUILD = 'exports_files(["VERSION", "go.env", "bin/go"])\n'

def _write_go_env(rctx, original):
    rctx.file("go.env", original.rstrip("\n") + "\n\n# Added by cat-server's tools/gosdk/sdk.bzl (see there).\n" + _GO_ENV_FLAGS + "\n")

go_pinned_sdk = repository_rule(
    implementation = _go_pinned_sdk_impl,
    attrs = {
        "go_mod": attr.label(mandatory = True, allow_single_file = True),
        "sums": attr.label(mandatory = True, allow_single_file = True),
    },
)

def _go_toolchain_impl(mctx):
    for mod in mctx.modules:
        if not mod.is_root:
            continue
        for tag in mod.tags.from_go_mod:
            go_pinned_sdk(name = tag.name, go_mod = tag.go_mod, sums = tag.sums)

go_toolchain = module_extension(
    implementation = _go_toolchain_impl,
    tag_classes = {
        "from_go_mod": tag_class(attrs = {
            "name": attr.string(default = "go_pinned_sdk"),
            "go_mod": attr.label(mandatory = True),
            "sums": attr.label(mandatory = True),
        }),
    },
)
