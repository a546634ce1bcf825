"""slsa_provenance: the SLSA v1 provenance predicate of an image build (project-only).

    load("//tools/provenance:defs.bzl", "slsa_provenance")

    # bazel build --stamp //image:provenance   (bazel-bin/image/provenance.json)
    slsa_provenance(
        name = "provenance",
        image = ":image",
        base = ":base",
        defines = ["base", "user", "uid", "gid"],
        source_uri = "https://github.com/cat-server/cat-server",
    )

The output is the predicate ONLY (https://slsa.dev/provenance/v1), as
`cosign attest --type slsaprovenance1 --predicate` takes it. It declares its inputs and
runs one Go tool, //tools/provenance/cmd/provenance (package slsa says what it holds).
"""

load("//tools/hosttool:transition.bzl", "HOST_GO_PLATFORM")

_TOOL = "//tools/provenance/cmd/provenance"

def _platform_transition_impl(_settings, attr):
    return {
        str(p.name): {"//command_line_option:platforms": str(p)}
        for p in attr.platforms
    }

_platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _label_text(label):
    """//pkg:name, or @module//pkg:name (the apparent name, without bzlmod's ~ suffix)."""
    repo = "@" + label.workspace_name.split("~")[0] if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def _layout(target, what):
    dirs = [f for f in target[DefaultInfo].files.to_list() if f.is_directory]
    if len(dirs) != 1:
        fail("%s: %s must provide exactly one OCI layout directory, got %d" % (what, target.label, len(dirs)))
    return dirs[0]

def _go_sdk_platform():
    if not HOST_GO_PLATFORM:
        fail("slsa_provenance: rules_go names no platform for this host, so the Go SDK it used is unknown")
    return HOST_GO_PLATFORM.rsplit(":", 1)[1].replace("_", "-")

def _slsa_provenance_impl(ctx):
    bases = []
    if ctx.attr.base and ctx.attr.platforms:
        fail("slsa_provenance: give base (one image) or base_for_platform with platforms (an index), not both")
    if ctx.attr.base:
        bases.append((_label_text(ctx.attr.base.label), _layout(ctx.attr.base, "base")))
    elif ctx.attr.platforms:
        for p in ctx.attr.platforms:
            target = ctx.split_attr.base_for_platform[p.label.name]
            bases.append(("%s for %s" % (_label_text(target.label), _label_text(p.label)), _layout(target, "base_for_platform")))
    else:
        fail("slsa_provenance: base or base_for_platform with platforms is required")

    stamp = ctx.file.stamp_info
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    spec = ctx.actions.declare_file(ctx.label.name + ".spec.json")
    ctx.actions.write(spec, json.encode({
        "stamp": stamp.path,
        "go_mod": ctx.file.go_mod.path,
        "go_sum": ctx.file.go_sum.path,
        "toolchain_sums": ctx.file.toolchain_sums.path,
        "bazel_version_file": ctx.file.bazel_version.path,
        "go_sdk_platform": _go_sdk_platform(),
        "source_uri": ctx.attr.source_uri,
        "target": _label_text(ctx.attr.image.label),
        "defines": {k: ctx.var[k] for k in ctx.attr.defines if k in ctx.var},
        "platforms": [_label_text(p.label) for p in ctx.attr.platforms],
        "compilation_mode": ctx.var["COMPILATION_MODE"],
        "bases": [{"name": name, "layout": layout.path} for name, layout in bases],
    }))
    ctx.actions.run(
        executable = ctx.executable._provenance,
        arguments = ["--spec", spec.path, "--out", out.path],
        inputs = [spec, stamp, ctx.file.go_mod, ctx.file.go_sum, ctx.file.toolchain_sums, ctx.file.bazel_version] + [layout for _, layout in bases],
        outputs = [out],
        mnemonic = "SlsaProvenance",
        progress_message = "Writing SLSA provenance %{label}",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

slsa_provenance = rule(
    implementation = _slsa_provenance_impl,
    doc = """The SLSA v1 provenance predicate (<name>.json) of `image`'s build: the stamped
commit (none without --stamp: then it says so and is the same on every machine), the
reconstructed build command, Bazel's and Go's versions, and every resolved dependency
with its digest (each go.sum line, the Go SDK zip, the base image).""",
    attrs = {
        "image": attr.label(mandatory = True, doc = "The image or index the predicate describes (its label is recorded; it is not built for this)."),
        "base": attr.label(allow_files = True, doc = "The base image (an OCI layout) of an image."),
        "base_for_platform": attr.label(allow_files = True, cfg = _platform_transition, doc = "The base image, built for each of `platforms` (an index)."),
        "platforms": attr.label_list(providers = [platform_common.PlatformInfo], doc = "The index's platforms."),
        "defines": attr.string_list(doc = "--define keys the build reads; the values in effect are recorded."),
        "source_uri": attr.string(mandatory = True, doc = "The repository's URL (the commit comes from stamp_info)."),
        "stamp_info": attr.label(default = "//tools/stamp:stamp", allow_single_file = True),
        "go_mod": attr.label(default = "//:go.mod", allow_single_file = True),
        "go_sum": attr.label(default = "//:go.sum", allow_single_file = True),
        "toolchain_sums": attr.label(default = "//tools/gosdk:toolchain.sums", allow_single_file = True),
        "bazel_version": attr.label(default = "//:.bazelversion", allow_single_file = True),
        "_provenance": attr.label(default = _TOOL, executable = True, cfg = "exec"),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
