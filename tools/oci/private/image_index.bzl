"""oci_image_index_rule: rules_oci 2.3's oci_image_index rule (wrapped by the macro in //tools/oci:defs.bzl)."""

load(":util.bzl", "ocitool_attr", "path_or_empty", "run_spec")

def _image_index_transition_impl(_settings, attr):
    return [
        {"//command_line_option:platforms": str(platform)}
        for platform in attr.platforms
    ]

_image_index_transition = transition(
    implementation = _image_index_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

_attrs = {
    "images": attr.label_list(
        mandatory = True,
        doc = "List of labels to oci_image targets.",
        cfg = _image_index_transition,
    ),
    "platforms": attr.label_list(
        doc = "Platforms to build the image for (a split transition); when given, `images` holds the one image to build for each.",
        providers = [platform_common.PlatformInfo],
    ),
    "annotations": attr.label(
        doc = "A file of name=value lines: annotations of the index.",
        allow_single_file = True,
    ),
    "_ocitool": ocitool_attr("exec"),
    "_allowlist_function_transition": attr.label(
        default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
    ),
}

def _oci_image_index_impl(ctx):
    if len(ctx.attr.platforms) > 0 and len(ctx.attr.images) != len(ctx.attr.platforms):
        fail("platforms can only be specified when there is exactly one image in the images attribute.")
    out = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".json.sha256")
    images = ctx.files.images
    inputs = list(images)
    if ctx.file.annotations:
        inputs.append(ctx.file.annotations)
    spec = {
        "images": [f.path for f in images],
        "annotations": path_or_empty(ctx.file.annotations),
        "out": out.path,
        "digest_out": digest.path,
    }
    run_spec(ctx, "index", spec, inputs, [out, digest], "OCIIndex", "OCI Index %{label}")
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        OutputGroupInfo(digest = depset([digest])),
    ]

oci_image_index = rule(
    implementation = _oci_image_index_impl,
    attrs = _attrs,
    doc = "Builds a multi-platform OCI image index layout from oci_image targets, as rules_oci's oci_image_index.",
)
