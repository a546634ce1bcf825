"""How Starlark rules run ocitool, the Go tool of the image rules (//tools/oci/cmd/ocitool).

Loaded by the rules_oci-shaped rules in //tools/oci/private and by the project's own rules
(//tools/healthcheck, //tools/nonroot, //tools/layer), which keep working after a switch
to rules_oci.
"""

OCITOOL = Label("//tools/oci/cmd/ocitool")

def ocitool_attr(cfg):
    """The attribute holding ocitool, built for `cfg` ("exec" for actions, "target" for run scripts)."""
    return attr.label(default = OCITOOL, executable = True, cfg = cfg)

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
