"""oci_image_rule: rules_oci 2.3's oci_image rule (the macro in //tools/oci:defs.bzl wraps it)."""

load(":util.bzl", "LayerDescriptorInfo", "RESOURCE_SET_ATTR", "label_text", "ocitool_attr", "path_or_empty", "resource_set", "run_spec")

_ACCEPTED_TAR_EXTENSIONS = [
    ".tar",
    ".tgz",
    ".tar.gz",
    ".tzst",
    ".tar.zst",
]

_attrs = {
    "base": attr.label(allow_single_file = True, doc = "Label to an oci_image target to use as the base."),
    "created": attr.label(allow_single_file = True, doc = "A file holding the image's creation datetime (RFC 3339)."),
    "tars": attr.label_list(allow_files = _ACCEPTED_TAR_EXTENSIONS, doc = "Tar files added as layers, in this order (never sorted)."),
    "entrypoint": attr.label(allow_single_file = True, doc = "A file with a newline-separated entrypoint. Setting it resets `cmd`."),
    "cmd": attr.label(allow_single_file = True, doc = "A file with newline-separated command & arguments."),
    "env": attr.label(allow_single_file = True, doc = "A file of KEY=VALUE lines; `$KEY`/`${KEY}` expand against the base env and earlier entries."),
    "user": attr.string(doc = "The user (name or uid, optionally :group or :gid), used as written."),
    "workdir": attr.string(doc = "The working directory of the entrypoint process."),
    "exposed_ports": attr.label(allow_single_file = True, doc = "A file with a comma-separated list of exposed ports (e.g. 2000/tcp, 3000/udp or 4000), stored as written."),
    "volumes": attr.label(allow_single_file = True, doc = "A file with a comma-separated list of volumes."),
    "os": attr.string(doc = "The operating system (GOOS), e.g. `linux`; required without `base`, refused with it."),
    "architecture": attr.string(doc = "The CPU architecture (GOARCH), e.g. `amd64`; required without `base`, refused with it."),
    "variant": attr.string(doc = "The CPU variant, e.g. `v8`; refused with `base`."),
    "labels": attr.label(allow_single_file = True, doc = "A file of name=value lines: config labels."),
    "annotations": attr.label(allow_single_file = True, doc = "A file of name=value lines: manifest annotations."),
    "_ocitool": ocitool_attr("exec"),
}

def _oci_image_impl(ctx):
    if not ctx.attr.base and (not ctx.attr.os or not ctx.attr.architecture):
        fail("'os' and 'architecture' are mandatory when 'base' is unspecified.")
    if ctx.attr.base and (ctx.attr.os or ctx.attr.architecture or ctx.attr.variant):
        fail("'os', 'architecture' and 'variant' come from the image provided by 'base' and cannot be overridden.")
    out = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".json.sha256")
    inputs = []
    for f in [ctx.file.base, ctx.file.created, ctx.file.entrypoint, ctx.file.cmd, ctx.file.env, ctx.file.exposed_ports, ctx.file.volumes, ctx.file.labels, ctx.file.annotations]:
        if f:
            inputs.append(f)
    tars = []
    tar_labels = []
    tar_descriptors = []
    for target in ctx.attr.tars:
        described = target[LayerDescriptorInfo] if LayerDescriptorInfo in target else None
        for f in target[DefaultInfo].files.to_list():
            inputs.append(f)
            tars.append(f.path)
            tar_labels.append(label_text(target.label))
            if described and described.tar == f:
                inputs.append(described.descriptor)
                tar_descriptors.append(described.descriptor.path)
            else:
                tar_descriptors.append("")
    spec = {
        "base": path_or_empty(ctx.file.base),
        "tars": tars,
        "tar_labels": tar_labels,
        "tar_descriptors": tar_descriptors,
        "entrypoint": path_or_empty(ctx.file.entrypoint),
        "cmd": path_or_empty(ctx.file.cmd),
        "env": path_or_empty(ctx.file.env),
        "user": ctx.attr.user,
        "workdir": ctx.attr.workdir,
        "exposed_ports": path_or_empty(ctx.file.exposed_ports),
        "volumes": path_or_empty(ctx.file.volumes),
        "labels": path_or_empty(ctx.file.labels),
        "annotations": path_or_empty(ctx.file.annotations),
        "os": ctx.attr.os,
        "architecture": ctx.attr.architecture,
        "variant": ctx.attr.variant,
        "created": path_or_empty(ctx.file.created),
        "out": out.path,
        "digest_out": digest.path,
    }
    run_spec(ctx, "image", spec, inputs, [out, digest], "OCIImage", "OCI Image %{label}", resource_set(ctx.attr))
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        # The oci_image macro's <name>.digest target is this output group.
        OutputGroupInfo(digest = depset([digest])),
    ]

oci_image = rule(
    implementation = _oci_image_impl,
    attrs = dict(_attrs, **RESOURCE_SET_ATTR),
    doc = """Builds an OCI image layout directory named after the target, as rules_oci's oci_image.

Most users should use the oci_image macro of //tools/oci:defs.bzl, which also takes
lists and dicts inline and adds the `<name>.digest` target.""",
)
