"""tar_layer: deterministic tar layers from files in this repository (not part of rules_oci).

    load("//tools/layer:defs.bzl", "tar_layer")

The output is an ordinary .tar.gz, usable in `tars` of this repository's oci_image and of
rules_oci's alike.
"""

load("//tools/oci/cmd/ocitool:run.bzl", "LayerDescriptorInfo", "ocitool_attr", "run_spec")

def _tar_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar.gz")
    entries = []
    inputs = []
    for target, dest in ctx.attr.files.items():
        files = target[DefaultInfo].files.to_list()
        if len(files) != 1:
            fail("files: %s provides %d files; each key must provide exactly one" % (target.label, len(files)))
        inputs.append(files[0])
        entries.append({"type": "file", "src": files[0].path, "dest": dest, "mode": ctx.attr.mode, "uid": ctx.attr.uid, "gid": ctx.attr.gid})
    for dest, mode in ctx.attr.dirs.items():
        entries.append({"type": "dir", "dest": dest, "mode": mode, "uid": ctx.attr.uid, "gid": ctx.attr.gid})
    for dest, target in ctx.attr.symlinks.items():
        entries.append({"type": "symlink", "dest": dest, "target": target, "mode": "0777", "uid": ctx.attr.uid, "gid": ctx.attr.gid})
    descriptor = ctx.actions.declare_file(ctx.label.name + ".descriptor.json")
    spec = {"out": out.path, "descriptor_out": descriptor.path, "entries": entries, "compression": "gzip"}
    run_spec(ctx, "layer", spec, inputs, [out, descriptor], "TarLayer", "Writing layer %{label}")
    return [
        DefaultInfo(files = depset([out])),
        LayerDescriptorInfo(tar = out, descriptor = descriptor),
    ]

tar_layer = rule(
    implementation = _tar_layer_impl,
    doc = "A deterministic, gzipped tar layer: sorted entries, mtime 0, numeric owners, no user names.",
    attrs = {
        "files": attr.label_keyed_string_dict(allow_files = True, doc = "Each label (one file) -> its absolute path in the layer."),
        "dirs": attr.string_dict(doc = "Directories to create: absolute path -> octal mode, e.g. {\"/tmp\": \"1777\"}."),
        "symlinks": attr.string_dict(doc = "Symbolic links: absolute path -> target."),
        "mode": attr.string(default = "0644", doc = "Octal mode of every file."),
        "uid": attr.int(default = 0, doc = "Numeric owner of every entry."),
        "gid": attr.int(default = 0, doc = "Numeric group of every entry."),
        "_ocitool": ocitool_attr("exec"),
    },
)
