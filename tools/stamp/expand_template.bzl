"""expand_template with aspect_bazel_lib's interface (@aspect_bazel_lib//lib:expand_template.bzl).

    load("//tools/stamp:expand_template.bzl", "expand_template")

    expand_template(
        name = "labels",
        out = "labels.txt",
        template = ["org.opencontainers.image.version=0.0.0"],
        stamp_substitutions = {"0.0.0": "{{STABLE_VERSION}}"},
    )

Switching to aspect_bazel_lib is changing the load line. `template` is a file or a list
of lines (joined with newlines); `substitutions` always apply; `stamp_substitutions`
apply on top of them (and win for the same key) only when stamping (`stamp` = 1, or -1
and --stamp), their `{{KEY}}` placeholders filled from the workspace status
(tools/stamp/workspace_status.sh). `$(VAR)` in substitution values is expanded as
ctx.expand_make_variables does (e.g. from `toolchains` or --define).
"""

load("@bazel_skylib//lib:types.bzl", "types")
load("@bazel_skylib//rules:write_file.bzl", "write_file")
load(":stamping.bzl", "STAMP_ATTRS", "maybe_stamp")

def _pairs(ctx, attr_name, values):
    return [[k, ctx.expand_make_variables(attr_name, v, {})] for k, v in values.items()]

def _expand_template_impl(ctx):
    out = ctx.outputs.out
    if not out:
        # As aspect_bazel_lib: a source template's name in the output tree; a generated
        # one (e.g. a list of lines) would collide with itself, so the target's name.
        if ctx.file.template.is_source:
            out = ctx.actions.declare_file(ctx.file.template.basename, sibling = ctx.file.template)
        else:
            out = ctx.actions.declare_file(ctx.label.name)
    spec = ctx.actions.declare_file(ctx.label.name + ".expand_template.json")
    ctx.actions.write(spec, json.encode({
        "substitutions": _pairs(ctx, "substitutions", ctx.attr.substitutions),
        "stamp_substitutions": _pairs(ctx, "stamp_substitutions", ctx.attr.stamp_substitutions),
    }))
    args = ctx.actions.args()
    args.add("expand")
    args.add("--template", ctx.file.template)
    args.add("--spec", spec)
    args.add("--out", out)
    if ctx.attr.is_executable:
        args.add("--executable")
    inputs = [ctx.file.template, spec]
    stamp = maybe_stamp(ctx)
    if stamp:
        args.add("--stable", stamp.stable_status_file)
        args.add("--volatile", stamp.volatile_status_file)
        inputs.extend([stamp.stable_status_file, stamp.volatile_status_file])
    ctx.actions.run(
        executable = ctx.executable._stamptool,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "ExpandTemplate",
        progress_message = "Expanding %{output}",
    )
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out]).merge_all([d[DefaultInfo].default_runfiles for d in ctx.attr.data]),
    )]

expand_template_rule = rule(
    implementation = _expand_template_impl,
    doc = "Template expansion with optional stamping (aspect_bazel_lib's expand_template rule).",
    attrs = dict(STAMP_ATTRS, **{
        "data": attr.label_list(allow_files = True, doc = "Runfiles of the output (and targets for $(location) in substitutions)."),
        "is_executable": attr.bool(doc = "Whether the output is executable."),
        "out": attr.output(doc = "Where to write the expanded file; default: a source template's name in the output tree, else the target's name."),
        "stamp_substitutions": attr.string_dict(doc = "Substitutions applied only when stamping; values may name workspace status keys as {{KEY}}."),
        "substitutions": attr.string_dict(doc = "Substitutions applied to the template: search => replacement."),
        "template": attr.label(mandatory = True, allow_single_file = True, doc = "The template file."),
        "_stamptool": attr.label(default = "//tools/stamp/cmd/stamptool", executable = True, cfg = "exec"),
    }),
)

def expand_template(name, template, **kwargs):
    """Expands a template (a file or a list of lines), as aspect_bazel_lib's macro.

    Args:
      name: the target.
      template: a label, or a list of lines written to `<name>_tmpl.txt` first.
      **kwargs: expand_template_rule's attributes (out, substitutions,
        stamp_substitutions, stamp, is_executable, data) and common ones.
    """
    if types.is_list(template):
        write_target = "_{}.tmpl".format(name)
        write_file(
            name = write_target,
            out = "{}.txt".format(write_target),
            content = template,
            tags = kwargs.get("tags", []) + ["manual"],
            visibility = ["//visibility:private"],
        )
        template = write_target
    expand_template_rule(
        name = name,
        template = template,
        **kwargs
    )
