"""Base images from registries: an `oci` module extension with rules_oci 2.x's `oci.pull`.

In MODULE.bazel:

    oci = use_extension("//tools/oci:pull.bzl", "oci")
    oci.pull(
        name = "alpine",
        image = "index.docker.io/library/alpine",
        digest = "sha256:...",  # the multi-platform index; pin it
        platforms = ["linux/amd64", "linux/arm64/v8"],
    )
    use_repo(oci, "alpine", "alpine_linux_amd64", "alpine_linux_arm64_v8")

and in a BUILD file:

    oci_image(name = "image", base = "@alpine", ...)               # platform picked by select
    oci_image(name = "image_amd64", base = "@alpine_linux_amd64", ...)  # one platform

Repositories (fetched lazily: only when a build references them, never by a build that
does not use the base):
  - `@<name>_<os>_<arch>[_<variant>]` per platform, e.g. `@alpine_linux_arm64_v8`. Its
    targets `:image` and `:<repo name>` (so `@alpine_linux_amd64` works as a label) are
    the image as ONE tree artifact: a single-image OCI layout directory, what oci_image's
    `base` wants. Fetching it runs the host Go toolchain from the workspace root:
    `go run github.com/cat-server/cat-server/tools/oci/cmd/ocitool pull ...`, which picks
    the platform out of the index (skipping attestations), verifies the digest of every
    blob, and writes the layout atomically (nothing is left behind on failure).
  - `@<name>` with `:<name>` (so `@alpine` works as a label) and `:image`: an alias to the
    platform repository whose CPU matches the target platform (@platforms//cpu), falling
    back to the first entry of `platforms`. The os is not selected on: these are Linux
    images, built the same way on a macOS host.

Needs: `go` on PATH (the Go SDK that `go_sdk.host()` uses) with the module cache holding
go.mod's dependencies, and `bazel_dep(name = "platforms")` in the root MODULE.bazel (for
the select in `@<name>`).

A `tag` without `digest` works but prints a warning naming the digest to pin; with both,
the digest is used. Registry credentials come from the docker config (~/.docker/config.json
and credential helpers), as for `docker pull`.

The layout in the repository is a source directory; the `oci_layout_dir` rule below copies
it into a tree artifact (a declared directory), because a source directory label is not a
tree artifact and Bazel does not track changes inside it.
"""

_OCITOOL_PKG = "github.com/cat-server/cat-server/tools/oci/cmd/ocitool"

# Where the layout is written inside each platform repository.
_LAYOUT = "layout"

# GOARCH (and variant) -> @platforms//cpu constraint, for the select in @<name>.
_CPU = {
    "amd64": "x86_64",
    "arm64": "aarch64",
    "arm/v7": "armv7",
    "386": "x86_32",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}

# --- oci_layout_dir: a layout directory in a repository -> a tree artifact ----------------

def _oci_layout_dir_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    prefix = "/".join([p for p in [ctx.label.workspace_root, ctx.label.package, ctx.attr.dir] if p]) + "/"
    args = ctx.actions.args()
    args.add(out.path)
    for f in ctx.files.srcs:
        if not f.path.startswith(prefix):
            fail("%s: %s is not under %s" % (ctx.label, f.path, prefix))
        args.add(f.path)
        args.add(f.path[len(prefix):])
    if not ctx.files.srcs:
        fail("%s: no files under %s" % (ctx.label, prefix))
    ctx.actions.run_shell(
        inputs = ctx.files.srcs,
        outputs = [out],
        arguments = [args],
        command = """set -eu
out="$1"; shift
while [ "$#" -gt 0 ]; do
  mkdir -p "$out/$(dirname "$2")"
  cp "$1" "$out/$2"
  shift 2
done
""",
        mnemonic = "OciLayoutDir",
        progress_message = "Copying the OCI layout of %{label}",
    )
    return [DefaultInfo(files = depset([out]))]

oci_layout_dir = rule(
    implementation = _oci_layout_dir_impl,
    doc = "Copies the files of an OCI layout directory into one tree artifact named like the target.",
    attrs = {
        "srcs": attr.label_list(allow_files = True, mandatory = True, doc = "Every file of the layout, e.g. glob([\"layout/**\"])."),
        "dir": attr.string(default = _LAYOUT, doc = "The layout directory, relative to the package."),
    },
)

# --- repository rules ----------------------------------------------------------------------

def _platform_repo_impl(rctx):
    what = "oci.pull(name = %r) for %s" % (rctx.attr.pull_name, rctx.attr.platform)
    go = rctx.which("go")
    if not go:
        fail("%s: `go` is not on PATH; pulling runs the host Go toolchain (go run %s)" % (what, _OCITOOL_PKG))
    root = rctx.path(rctx.attr.go_mod).dirname
    args = [
        go,
        "run",
        _OCITOOL_PKG,
        "pull",
        "--image",
        rctx.attr.image,
        "--platform",
        rctx.attr.platform,
        "--out",
        str(rctx.path(_LAYOUT)),
        "--name",
        rctx.attr.pull_name,
    ]
    if rctx.attr.digest:
        args += ["--digest", rctx.attr.digest]
    if rctx.attr.tag:
        args += ["--tag", rctx.attr.tag]
    rctx.report_progress("Pulling %s %s" % (rctx.attr.image, rctx.attr.platform))
    res = rctx.execute(args, working_directory = str(root), timeout = rctx.attr.timeout, quiet = True)
    if res.return_code != 0:
        fail("%s failed (%s, exit code %d):\n%s" % (
            what,
            " ".join(["go", "run", _OCITOOL_PKG] + args[3:]),
            res.return_code,
            (res.stderr + res.stdout).strip(),
        ))
    for line in res.stderr.splitlines():
        if line.startswith("WARNING:"):
            print(line)  # buildifier: disable=print
    rctx.file("BUILD.bazel", """\
# Generated by {bzl} for {what}.
load("{bzl}", "oci_layout_dir")

package(default_visibility = ["//visibility:public"])

# The {platform} image of {image} as one OCI layout directory (a tree artifact).
oci_layout_dir(
    name = "image",
    srcs = glob(["{layout}/**"]),
    dir = "{layout}",
)

alias(
    name = "{repo}",
    actual = ":image",
)
""".format(
        bzl = str(Label("//tools/oci:pull.bzl")),
        what = what,
        platform = rctx.attr.platform,
        image = rctx.attr.image,
        layout = _LAYOUT,
        repo = rctx.attr.repo_name,
    ))

_platform_repo = repository_rule(
    implementation = _platform_repo_impl,
    doc = "One platform's image of an oci.pull, as an OCI layout. Created by the `oci` extension.",
    attrs = {
        "pull_name": attr.string(mandatory = True),
        "repo_name": attr.string(mandatory = True, doc = "The apparent name, for the :<repo> alias."),
        "image": attr.string(mandatory = True),
        "digest": attr.string(),
        "tag": attr.string(),
        "platform": attr.string(mandatory = True),
        "timeout": attr.int(default = 1200),
        "go_mod": attr.label(default = Label("//:go.mod"), allow_single_file = True),
    },
)

def _alias_repo_impl(rctx):
    name = rctx.attr.pull_name
    conditions = []
    settings = []
    seen = {}
    for platform, repo in zip(rctx.attr.platforms, rctx.attr.repos):
        parts = platform.split("/")
        arch = parts[1]
        cpu = _CPU.get(arch + "/" + parts[2] if len(parts) > 2 else arch) or _CPU.get(arch)
        if not cpu or cpu in seen:
            continue
        seen[cpu] = True
        setting = platform.replace("/", "_")
        settings.append("""config_setting(
    name = "{setting}",
    constraint_values = ["@platforms//cpu:{cpu}"],
)
""".format(setting = setting, cpu = cpu))
        conditions.append('        ":{setting}": "@{repo}//:image",\n'.format(setting = setting, repo = repo))
    rctx.file("BUILD.bazel", """\
# Generated by {bzl} for oci.pull(name = "{name}").
package(default_visibility = ["//visibility:public"])

{settings}
# The image for the target platform's CPU; {default} otherwise.
alias(
    name = "{name}",
    actual = select({{
{conditions}        "//conditions:default": "@{default_repo}//:image",
    }}),
)

alias(
    name = "image",
    actual = ":{name}",
)
""".format(
        bzl = str(Label("//tools/oci:pull.bzl")),
        name = name,
        settings = "\n".join(settings),
        conditions = "".join(conditions),
        default = rctx.attr.platforms[0],
        default_repo = rctx.attr.repos[0],
    ))

_alias_repo = repository_rule(
    implementation = _alias_repo_impl,
    doc = "@<name> of an oci.pull: the platform repository matching the target CPU.",
    attrs = {
        "pull_name": attr.string(mandatory = True),
        "platforms": attr.string_list(mandatory = True),
        "repos": attr.string_list(mandatory = True),
    },
)

# --- the module extension ------------------------------------------------------------------

def _check_platform(name, platform):
    parts = platform.split("/")
    if len(parts) not in (2, 3) or "" in parts:
        fail("oci.pull(name = %r): platform %r: want os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8" % (name, platform))

def _oci_impl(mctx):
    seen = {}
    for mod in mctx.modules:
        for pull in mod.tags.pull:
            name = pull.name
            if name in seen:
                fail("oci.pull(name = %r) is declared twice" % name)
            seen[name] = True
            if "@" in pull.image or ":" in pull.image.split("/")[-1]:
                fail("oci.pull(name = %r): image %r must be a repository without tag or digest; use digest = and tag =" % (name, pull.image))
            if not pull.digest and not pull.tag:
                fail("oci.pull(name = %r): give digest = \"sha256:...\" (or at least tag =)" % name)
            if pull.digest and not pull.digest.startswith("sha256:"):
                fail("oci.pull(name = %r): digest %r: want sha256:<64 hex digits>" % (name, pull.digest))
            if not pull.platforms:
                fail("oci.pull(name = %r): platforms is empty; list them, e.g. [\"linux/amd64\", \"linux/arm64/v8\"]" % name)
            repos = []
            for platform in pull.platforms:
                _check_platform(name, platform)
                repo = name + "_" + platform.replace("/", "_")
                repos.append(repo)
                _platform_repo(
                    name = repo,
                    pull_name = name,
                    repo_name = repo,
                    image = pull.image,
                    digest = pull.digest,
                    tag = pull.tag,
                    platform = platform,
                )
            _alias_repo(name = name, pull_name = name, platforms = pull.platforms, repos = repos)
    return mctx.extension_metadata(reproducible = True)

_pull = tag_class(
    doc = "Pull an image from a registry (rules_oci 2.x's oci.pull).",
    attrs = {
        "name": attr.string(mandatory = True, doc = "Name of the @<name> repository; platform repositories are @<name>_<os>_<arch>[_<variant>]."),
        "image": attr.string(mandatory = True, doc = "Repository without tag or digest, e.g. index.docker.io/library/alpine."),
        "digest": attr.string(doc = "sha256:... of the index (or of the image manifest for a single-platform image)."),
        "tag": attr.string(doc = "Used only without digest; prints the digest to pin."),
        "platforms": attr.string_list(mandatory = True, doc = "os/arch[/variant] to pull, e.g. [\"linux/amd64\", \"linux/arm64/v8\"]."),
    },
)

oci = module_extension(
    implementation = _oci_impl,
    doc = "Base images from registries, with rules_oci 2.x's interface: oci.pull(...).",
    tag_classes = {"pull": _pull},
)
