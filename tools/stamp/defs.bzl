"""stamp_info: the build's stamp as JSON (stamp.json), for tools that need the version or commit.

    load("//tools/stamp:defs.bzl", "stamp_info")

With --stamp (or stamp = 1):
    {"stamped": true, "revision": "<commit>", "version": "<version>", "dirty": false,
     "created": "<RFC 3339 UTC>", "invocationId": "<uuid>"}
Without: {"stamped": false} and nothing else.
The values come from tools/stamp/workspace_status.sh (.bazelrc's --workspace_status_command).
"""

load(":stamping.bzl", "STAMP_ATTRS", "maybe_stamp")

_STAMPTOOL = "//tools/stamp/cmd/stamptool"

def _stamp_info_impl(ctx):
    out = ctx.actions.declare_file(ctx.attr.out or ctx.label.name + ".json")
    args = ctx.actions.args()
    args.add("info")
    args.add("--out", out)
    inputs = []
    stamp = maybe_stamp(ctx)
    if stamp:
        args.add("--stable", stamp.stable_status_file)
        args.add("--volatile", stamp.volatile_status_file)
        inputs = [stamp.stable_status_file, stamp.volatile_status_file]
    ctx.actions.run(
        executable = ctx.executable._stamptool,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "StampInfo",
        progress_message = "Writing stamp info %{output}",
    )
    return [DefaultInfo(files = depset([out]))]

stamp_info = rule(
    implementation = _stamp_info_impl,
    doc = "The build's stamp as JSON: {\"stamped\": false} unless stamping (then revision, version, dirty, created).",
    attrs = dict(STAMP_ATTRS, **{
        "out": attr.string(doc = "The output's name; default <name>.json."),
        "_stamptool": attr.label(default = _STAMPTOOL, executable = True, cfg = "exec"),
    }),
)
