"""A non-root user taken from `--define user=NAME --define uid=N --define gid=N` (not part of rules_oci).

    load("//tools/nonroot:defs.bzl", "build_args", "numeric_user", "passwd_layer")

  - passwd_layer: a layer with /etc/passwd, /etc/group (the base's entries plus the user)
    and the user's home directory; bad values fail the build naming the flag.
  - numeric_user: takes ANY single-image OCI layout (this repository's oci_image or
    rules_oci's) and writes a new layout whose config User is the numeric `UID:GID` of a
    passwd_layer, plus `<name>.digest` as rules_oci names it. (rules_oci's `user` attribute
    is used as written, so `$(UID)` would stay literal there.)
  - build_args: `bazel run` prints the values in effect and where each came from.
"""

load("//tools/oci/cmd/ocitool:run.bzl", "layout_digest_target", "ocitool_attr", "run_spec")

# The defaults of --define user=NAME --define uid=N --define gid=N.
DEFAULT_USER = {"user": "app", "uid": "1000", "gid": "1000"}

def _passwd_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar.gz")
    info = ctx.actions.declare_file(ctx.label.name + ".build_args.txt")
    values = {}
    sources = {}
    for key, default in DEFAULT_USER.items():
        if key in ctx.var:
            values[key] = ctx.var[key]
            sources[key] = "--define"
        else:
            values[key] = default
            sources[key] = "default"
    inputs = []
    base = ""
    if ctx.file.base:
        inputs.append(ctx.file.base)
        base = ctx.file.base.path
    spec = {
        "base": base,
        "user": values["user"],
        "uid": values["uid"],
        "gid": values["gid"],
        "sources": sources,
        "out": out.path,
        "info_out": info.path,
    }
    run_spec(ctx, "passwd", spec, inputs, [out, info], "PasswdLayer", "Writing passwd/group layer %{label}")
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(build_args = depset([info])),
        platform_common.TemplateVariableInfo({
            "USER": values["user"],
            "UID": values["uid"],
            "GID": values["gid"],
        }),
    ]

passwd_layer = rule(
    implementation = _passwd_layer_impl,
    doc = """A layer with /etc/passwd, /etc/group and a home directory for one non-root user.

The user comes from --define user=NAME --define uid=N --define gid=N (defaults app, 1000,
1000) and is merged with the base image's own entries; bad values and clashes fail the
build with a message naming the flag. Provides the make variables $(USER), $(UID) and
$(GID) to targets that list it in `toolchains`, and its output group `build_args` holds
the effective values and where each came from.""",
    attrs = {
        "base": attr.label(allow_single_file = True, doc = "The base image (an OCI layout) whose /etc/passwd and /etc/group are kept."),
        "_ocitool": ocitool_attr("exec"),
    },
)

def _build_args_impl(ctx):
    info = ctx.attr.passwd[OutputGroupInfo].build_args.to_list()[0]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "#!/usr/bin/env bash\nexec cat '%s'\n" % info.short_path, is_executable = True)
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = [info]))]

build_args = rule(
    implementation = _build_args_impl,
    doc = "`bazel run` prints the effective user, uid and gid of a passwd_layer and where each came from.",
    executable = True,
    attrs = {"passwd": attr.label(mandatory = True, providers = [OutputGroupInfo])},
)

def _numeric_user_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".json.sha256")
    v = ctx.attr.passwd[platform_common.TemplateVariableInfo].variables
    spec = {
        "image": ctx.file.image.path,
        "user": "%s:%s" % (v["UID"], v["GID"]),
        "out": out.path,
        "digest_out": digest.path,
    }
    run_spec(ctx, "config", spec, [ctx.file.image], [out, digest], "NumericUser", "Setting the user of %{label}")
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        OutputGroupInfo(digest = depset([digest])),
    ]

numeric_user_rule = rule(
    implementation = _numeric_user_impl,
    doc = "A copy of `image` (any single-image OCI layout) whose config User is the numeric UID:GID of `passwd`.",
    attrs = {
        "image": attr.label(mandatory = True, allow_single_file = True, doc = "An OCI layout directory holding one image, e.g. an oci_image."),
        "passwd": attr.label(mandatory = True, providers = [platform_common.TemplateVariableInfo], doc = "The passwd_layer whose uid and gid to run as."),
        "_ocitool": ocitool_attr("exec"),
    },
)

def numeric_user(name, **kwargs):
    """numeric_user_rule plus the `<name>.digest` target (file `<name>.json.sha256`), as rules_oci names it.

    Args:
      name: the target; its output is the OCI layout directory `<name>`.
      **kwargs: image, passwd and common attributes.
    """
    numeric_user_rule(name = name, **kwargs)
    layout_digest_target(name, kwargs)
