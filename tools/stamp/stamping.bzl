"""Whether this build stamps: the `stamp` attribute (-1/0/1) of rules_go and rules_pkg, or --stamp.

    load("//tools/stamp:stamping.bzl", "STAMP_ATTRS", "maybe_stamp")

    my_rule = rule(attrs = dict(STAMP_ATTRS, ...), ...)

    stamp = maybe_stamp(ctx)   # None, or struct(stable_status_file, volatile_status_file)

Only a stamping build hands the status files (ctx.info_file, ctx.version_file) to an
action: an unstamped action never sees them, so nothing volatile enters its output and
it stays cached.
"""

StampSettingInfo = provider(
    doc = "Whether --stamp is on in this configuration.",
    fields = {"value": "True under --stamp"},
)

def _stamp_setting_impl(ctx):
    return [StampSettingInfo(value = ctx.attr.value)]

stamp_setting = rule(
    implementation = _stamp_setting_impl,
    doc = "Reports --stamp (its `value` is a select on a config_setting of values = {\"stamp\": \"1\"}).",
    attrs = {"value": attr.bool(mandatory = True)},
)

STAMP_ATTRS = {
    "stamp": attr.int(
        default = -1,
        values = [1, 0, -1],
        doc = """Whether to stamp: 1 always (the workspace status enters the output, which
is rebuilt when a STABLE_ key changes), 0 never (constant output, best for the cache),
-1 as the --stamp flag says.""",
    ),
    "_stamp_flag": attr.label(
        default = "//tools/stamp:stamp_flag",
        providers = [StampSettingInfo],
    ),
}

def maybe_stamp(ctx):
    """The status files when this target stamps, else None.

    Args:
      ctx: the context of a rule with STAMP_ATTRS.

    Returns:
      struct(stable_status_file, volatile_status_file) or None.
    """
    stamp = ctx.attr.stamp
    if stamp == 1 or (stamp == -1 and ctx.attr._stamp_flag[StampSettingInfo].value):
        return struct(stable_status_file = ctx.info_file, volatile_status_file = ctx.version_file)
    return None

def _stamp_on_transition_impl(_settings, _attr):
    return {"//command_line_option:stamp": True}

_stamp_on_transition = transition(
    implementation = _stamp_on_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:stamp"],
)

def _stamped_files_impl(ctx):
    # Under <name>/, so that they do not collide in runfiles with the same files built
    # without --stamp (a configuration does not show in runfiles paths).
    outs = []
    for src in ctx.attr.srcs:
        for f in src[DefaultInfo].files.to_list():
            out = ctx.actions.declare_file(ctx.label.name + "/" + f.basename)
            ctx.actions.symlink(output = out, target_file = f)
            outs.append(out)
    return [DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs))]

stamped_files = rule(
    implementation = _stamped_files_impl,
    doc = """The files of `srcs` built as under --stamp (a transition sets it), whatever the
command line says, as <name>/<basename>: lets `bazel test` check stamped outputs.""",
    attrs = {
        "srcs": attr.label_list(cfg = _stamp_on_transition, allow_files = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
