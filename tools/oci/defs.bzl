"""Container image rules with the rules_oci 2.x interface, on go-containerregistry.

rules_oci cannot be fetched on this project's machines, so these rules mirror its public
interface (oci_image, oci_load, oci_push): switching to rules_oci later is a change of
load() lines. Each rule only declares inputs and outputs and runs one Go tool, ocitool
(//tools/oci/cmd/ocitool), with a JSON spec; the behaviour lives and is tested in Go.

Beyond rules_oci:
  - oci_image(healthcheck = healthcheck(...)) writes Docker's HEALTHCHECK config
    (Docker-specific: the OCI image spec has no health check, podman keeps it only in
    docker format).
  - oci_image(user = "$(UID):$(GID)", toolchains = [":passwd"]) expands make variables in
    `user`, so the user can come from a passwd_layer.
  - tar_layer builds deterministic layers; passwd_layer generates /etc/passwd and
    /etc/group from --define user=NAME --define uid=N --define gid=N.
"""

load("//tools/hosttool:transition.bzl", "host_tool_transition")

_OCITOOL = "//tools/oci/cmd/ocitool"

def _ocitool_attr(cfg):
    return attr.label(default = _OCITOOL, executable = True, cfg = host_tool_transition if cfg == "exec" else cfg)

def _layout_dir(target, what):
    """The OCI layout directory that an image target provides (an oci_image also gives its .digest)."""
    files = target[DefaultInfo].files.to_list()
    dirs = [f for f in files if f.is_directory]
    if len(dirs) == 1:
        return dirs[0]
    if len(files) == 1:
        return files[0]
    fail("%s must provide one OCI image layout directory, got %d files from %s" % (what, len(files), target.label))

def _label_text(label):
    """//pkg:name for this repository's labels, @repo//pkg:name for others."""
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def _run_spec(ctx, subcommand, spec, inputs, outputs, mnemonic, progress):
    spec_file = ctx.actions.declare_file(ctx.label.name + "." + subcommand + ".json")
    ctx.actions.write(spec_file, json.encode_indent(spec))
    ctx.actions.run(
        executable = ctx.executable._ocitool,
        arguments = [subcommand, "--spec", spec_file.path],
        inputs = inputs + [spec_file],
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress,
    )

# --- tar_layer ---------------------------------------------------------------------------

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
    _run_spec(ctx, "layer", {"out": out.path, "entries": entries, "compression": "gzip"}, inputs, [out], "TarLayer", "Writing layer %{label}")
    return [DefaultInfo(files = depset([out]))]

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
        "_ocitool": _ocitool_attr("exec"),
    },
)

# --- passwd_layer ------------------------------------------------------------------------

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
    if ctx.attr.base:
        base_dir = _layout_dir(ctx.attr.base, "base")
        inputs.append(base_dir)
        base = base_dir.path
    spec = {
        "base": base,
        "user": values["user"],
        "uid": values["uid"],
        "gid": values["gid"],
        "sources": sources,
        "out": out.path,
        "info_out": info.path,
    }
    _run_spec(ctx, "passwd", spec, inputs, [out, info], "PasswdLayer", "Writing passwd/group layer %{label}")
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
        "base": attr.label(allow_files = True, doc = "The base image whose /etc/passwd and /etc/group are kept."),
        "_ocitool": _ocitool_attr("exec"),
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

# --- oci_image ---------------------------------------------------------------------------

def healthcheck(test, interval = "30s", timeout = "30s", start_period = "0s", retries = 3):
    """Docker's HEALTHCHECK for oci_image(healthcheck = ...).

    Args:
      test: the check, as Docker stores it: ["CMD", "/path", "arg", ...] or ["CMD-SHELL", "cmd"].
      interval: time between checks (Go duration).
      timeout: time one check may take before it counts as failed.
      start_period: start-up time during which failures do not count.
      retries: consecutive failures that make the container unhealthy.

    Returns:
      The JSON string that oci_image's `healthcheck` attribute takes.
    """
    return json.encode({
        "test": test,
        "interval": interval,
        "timeout": timeout,
        "start_period": start_period,
        "retries": retries,
    })

def _oci_image_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    inputs = []
    base = ""
    if ctx.attr.base:
        base_dir = _layout_dir(ctx.attr.base, "base")
        inputs.append(base_dir)
        base = base_dir.path
    tars = []
    tar_labels = []
    for target in ctx.attr.tars:
        for f in target[DefaultInfo].files.to_list():
            inputs.append(f)
            tars.append(f.path)
            tar_labels.append(_label_text(target.label))
    spec = {
        "base": base,
        "tars": tars,
        "tar_labels": tar_labels,
        "entrypoint": ctx.attr.entrypoint or None,
        "cmd": ctx.attr.cmd or None,
        "env": ctx.attr.env,
        "user": ctx.expand_make_variables("user", ctx.attr.user, {}),
        "workdir": ctx.attr.workdir,
        "exposed_ports": ctx.attr.exposed_ports,
        "volumes": ctx.attr.volumes,
        "labels": ctx.attr.labels,
        "annotations": ctx.attr.annotations,
        "os": ctx.attr.os,
        "architecture": ctx.attr.architecture,
        "variant": ctx.attr.variant,
        "created": ctx.attr.created,
        "healthcheck": json.decode(ctx.attr.healthcheck) if ctx.attr.healthcheck else None,
        "out": out.path,
        "digest_out": digest.path,
    }
    _run_spec(ctx, "image", spec, inputs, [out, digest], "OciImage", "Assembling image %{label}")
    return [
        DefaultInfo(files = depset([out, digest]), runfiles = ctx.runfiles(files = [out])),
        OutputGroupInfo(digest = depset([digest])),
    ]

oci_image = rule(
    implementation = _oci_image_impl,
    doc = """An OCI image layout directory named after the target, plus <name>.digest.

As rules_oci's oci_image: `tars` are layers in the given order; `os`/`architecture` are
required without `base` and forbidden with it; setting `entrypoint` clears the base's Cmd;
`env` values expand $VAR/${VAR} against the base's env; `labels` merge with the base's;
`annotations` go on the manifest; without a base, `created` is the epoch.""",
    attrs = {
        "base": attr.label(allow_files = True, doc = "Base image: an OCI layout directory (another oci_image or a pulled base)."),
        "tars": attr.label_list(allow_files = [".tar", ".tar.gz", ".tgz", ".tar.zst"], doc = "Layers, in order."),
        "entrypoint": attr.string_list(),
        "cmd": attr.string_list(),
        "env": attr.string_dict(),
        "user": attr.string(doc = "User (name or uid[:gid]); make variables such as $(UID) from `toolchains` are expanded."),
        "workdir": attr.string(),
        "exposed_ports": attr.string_list(),
        "volumes": attr.string_list(),
        "labels": attr.string_dict(),
        "annotations": attr.string_dict(),
        "os": attr.string(),
        "architecture": attr.string(),
        "variant": attr.string(),
        "created": attr.string(doc = "RFC 3339 creation time; defaults to the epoch without a base."),
        "healthcheck": attr.string(doc = "Docker-specific HEALTHCHECK, from healthcheck(...)."),
        "_ocitool": _ocitool_attr("exec"),
    },
)

# --- oci_load ----------------------------------------------------------------------------

def _runtime_script(ctx, args, runfiles):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    quoted = " ".join(["'%s'" % a.replace("'", "'\\''") for a in args])

    # Paths are relative to this repository's runfiles: `bazel run` starts there, a test
    # that runs the script has them under RUNFILES_DIR.
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
        runfiles = ctx.runfiles(files = runfiles).merge(ctx.attr._ocitool_run[DefaultInfo].default_runfiles),
    )

def _oci_load_impl(ctx):
    image = _layout_dir(ctx.attr.image, "image")
    tarball = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("tarball")
    args.add("--image", image.path)
    for tag in ctx.attr.repo_tags:
        args.add("--tag", tag)
    args.add("--out", tarball.path)
    ctx.actions.run(
        executable = ctx.executable._ocitool,
        arguments = [args],
        inputs = [image],
        outputs = [tarball],
        mnemonic = "OciTarball",
        progress_message = "Writing docker-save tarball %{label}",
    )
    tool = ctx.executable._ocitool_run
    return [
        _runtime_script(ctx, [tool.short_path, "load", "--tarball", tarball.short_path], [tool, tarball]),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

oci_load = rule(
    implementation = _oci_load_impl,
    doc = "`bazel run` loads the image into the local container engine (docker, else podman, else nerdctl); output group `tarball` holds the docker-save tar.",
    executable = True,
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True),
        "repo_tags": attr.string_list(doc = "Tags such as \"cat-server:latest\"."),
        "_ocitool": _ocitool_attr("exec"),
        "_ocitool_run": _ocitool_attr("target"),
    },
)

# --- oci_push ----------------------------------------------------------------------------

def _oci_push_impl(ctx):
    image = _layout_dir(ctx.attr.image, "image")
    tool = ctx.executable._ocitool_run
    args = [tool.short_path, "push", "--image", image.short_path]
    if ctx.attr.repository:
        args.extend(["--repository", ctx.attr.repository])
    for tag in ctx.attr.remote_tags:
        args.extend(["--tag", tag])
    return [_runtime_script(ctx, args, [tool, image])]

oci_push = rule(
    implementation = _oci_push_impl,
    doc = "`bazel run :push -- [-r REPOSITORY] [-t TAG]...` pushes the image by digest, then tags it; credentials come from the Docker keychain.",
    executable = True,
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True),
        "repository": attr.string(doc = "Default repository; `-r`/`--repository` at run time overrides it."),
        "remote_tags": attr.string_list(doc = "Tags applied after the push; `-t`/`--tag` at run time adds more."),
        "_ocitool_run": _ocitool_attr("target"),
    },
)
