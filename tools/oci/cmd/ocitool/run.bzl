"""How Starlark rules run ocitool, the Go tool of the image rules (//tools/oci/cmd/ocitool).

Loaded by the rules_oci-shaped rules in //tools/oci/private and by the project's own rules
(//tools/healthcheck, //tools/nonroot, //tools/layer), which keep working after a switch
to rules_oci.
"""

load("//tools/hosttool:transition.bzl", "host_tool_transition")

OCITOOL = Label("//tools/oci/cmd/ocitool")

# A tar layer written by ocitool's `layer` (//tools/layer's tar_layer) together with its
# descriptor (digest, size, diff ID). oci_image passes the descriptor to `ocitool image`,
# which then does not read the layer again to hash it (one read of a 10 MB layer on every
# code edit). Other tars, and upstream's oci_image, simply ignore it.
LayerDescriptorInfo = provider(
    doc = "The descriptor file ocitool wrote with a tar layer.",
    fields = {
        "tar": "File: the layer.",
        "descriptor": "File: its JSON descriptor (compression, digest, size, diffID).",
    },
)

def ocitool_attr(cfg):
    """The attribute holding ocitool: "exec" for actions, "target" for run scripts.

    For actions it is built for the host with host_tool_transition rather than in the exec
    configuration, so it shares the Go standard library (and its dependencies) with the
    image's payload instead of compiling them once more.

    Args:
      cfg: "exec" or "target".

    Returns:
      The attribute.
    """
    return attr.label(default = OCITOOL, executable = True, cfg = host_tool_transition if cfg == "exec" else cfg)

def run_spec(ctx, subcommand, spec, inputs, outputs, mnemonic, progress, resource_set = None):
    """Writes `spec` as JSON and runs `ocitool <subcommand> --spec FILE`.

    Args:
      ctx: the rule context; the rule has an `_ocitool` attribute (ocitool_attr("exec")).
      subcommand: the ocitool subcommand, e.g. "image".
      spec: the JSON spec, a dict.
      inputs: files the action reads.
      outputs: files and directories it writes.
      mnemonic: the action's mnemonic.
      progress: the action's progress message.
      resource_set: a resource_set function, or None for Bazel's default.
    """
    spec_file = ctx.actions.declare_file(ctx.label.name + "." + subcommand + ".json")
    ctx.actions.write(spec_file, json.encode_indent(spec))
    ctx.actions.run(
        executable = ctx.executable._ocitool,
        arguments = [subcommand, "--spec", spec_file.path],
        inputs = inputs + [spec_file],
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress,
        resource_set = resource_set,
    )

def layout_digest_target(name, kwargs):
    """The `<name>.digest` target of a layout-producing rule, as rules_oci names it.

    A file `<name>.json.sha256` holding "sha256:...\\n" (the rule's `digest` output group),
    with the tags, visibility and testonly of the macro's call.

    Args:
      name: the layout target.
      kwargs: the macro's keyword arguments.
    """
    native.filegroup(
        name = name + ".digest",
        srcs = [name],
        output_group = "digest",
        tags = kwargs.get("tags"),
        visibility = kwargs.get("visibility"),
        testonly = kwargs.get("testonly"),
    )
