"""Helpers shared by the rules in this directory."""

load("//tools/oci/cmd/ocitool:run.bzl", _LayerDescriptorInfo = "LayerDescriptorInfo", _ocitool_attr = "ocitool_attr", _run_spec = "run_spec")
load("//tools/runscript:runscript.bzl", "write_run_script")

LayerDescriptorInfo = _LayerDescriptorInfo
ocitool_attr = _ocitool_attr
run_spec = _run_spec

def label_text(label):
    """//pkg:name for this repository's labels, @repo//pkg:name for others."""
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def path_or_empty(f):
    """The path of f, or "" for None."""
    return f.path if f else ""

def run_script(ctx, args, runfiles, extra_runfiles = []):
    """An executable that runs `args` (paths relative to the runfiles root of this repository) plus "$@".

    Args:
      ctx: the rule context; the rule has an `_ocitool_run` attribute (ocitool_attr("target")).
      args: the command, paths as short_path.
      runfiles: files the command needs at run time.
      extra_runfiles: runfiles objects to merge in.

    Returns:
      DefaultInfo with the script as executable.
    """
    script = write_run_script(ctx, ctx.label.name + ".sh", args)
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
