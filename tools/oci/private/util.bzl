"""Helpers shared by the rules in this directory: the Go tool and how it is run."""

OCITOOL = Label("//tools/oci/cmd/ocitool")

def ocitool_attr(cfg):
    """The attribute holding ocitool, built for `cfg` ("exec" for actions, "target" for run scripts)."""
    return attr.label(default = OCITOOL, executable = True, cfg = cfg)

def label_text(label):
    """//pkg:name for this repository's labels, @repo//pkg:name for others."""
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def run_spec(ctx, subcommand, spec, inputs, outputs, mnemonic, progress, resource_set = None):
    """Writes `spec` as JSON and runs `ocitool <subcommand> --spec FILE`."""
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

def path_or_empty(f):
    return f.path if f else ""

def run_script(ctx, args, runfiles, extra_runfiles = []):
    """An executable that runs `args` (paths relative to the runfiles root of this repository) plus "$@"."""
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    quoted = " ".join(["'%s'" % a.replace("'", "'\\''") for a in args])

    # `bazel run` starts in the runfiles of this repository; a test that runs the
    # script has them under RUNFILES_DIR.
    ctx.actions.write(
        script,
        """#!/usr/bin/env bash
set -euo pipefail
if [ -d "$0.runfiles/{ws}" ]; then
  cd "$0.runfiles/{ws}"
elif [ -n "${{RUNFILES_DIR:-}}" ]; then
  cd "$RUNFILES_DIR/{ws}"
fi
exec {cmd} "$@"
""".format(ws = ctx.workspace_name, cmd = quoted),
        is_executable = True,
    )
    return DefaultInfo(
        executable = script,
        runfiles = ctx.runfiles(files = runfiles).merge_all([ctx.attr._ocitool_run[DefaultInfo].default_runfiles] + extra_runfiles),
    )

# Values of rules_oci's `resource_set` attribute (aspect_bazel_lib's resource_sets.bzl).

def _mem_512m(_os, _inputs):
    return {"memory": 512}

def _mem_1g(_os, _inputs):
    return {"memory": 1024}

def _mem_2g(_os, _inputs):
    return {"memory": 2048}

def _mem_4g(_os, _inputs):
    return {"memory": 4096}

def _mem_8g(_os, _inputs):
    return {"memory": 8192}

def _mem_16g(_os, _inputs):
    return {"memory": 16384}

def _mem_32g(_os, _inputs):
    return {"memory": 32768}

_RESOURCE_SETS = {
    "mem_512m": _mem_512m,
    "mem_1g": _mem_1g,
    "mem_2g": _mem_2g,
    "mem_4g": _mem_4g,
    "mem_8g": _mem_8g,
    "mem_16g": _mem_16g,
    "mem_32g": _mem_32g,
}

RESOURCE_SET_VALUES = ["default", "mem_512m", "mem_1g", "mem_2g", "mem_4g", "mem_8g", "mem_16g", "mem_32g"]

def resource_set(attrs):
    """The resource_set function for ctx.actions.run (None for "default")."""
    return _RESOURCE_SETS.get(attrs.resource_set)

RESOURCE_SET_ATTR = {
    "resource_set": attr.string(
        doc = "A predefined memory reservation for the action (used with --experimental_action_resource_set); default: Bazel's default of 1 CPU and 250 MB.",
        default = "default",
        values = RESOURCE_SET_VALUES,
    ),
}
