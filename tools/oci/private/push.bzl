"""oci_push_rule: rules_oci 2.3's oci_push rule (wrapped by the oci_push macro in //tools/oci:defs.bzl)."""

load(":util.bzl", "ocitool_attr", "run_script")

_attrs = {
    "image": attr.label(
        allow_single_file = True,
        doc = "Label to an oci_image or oci_image_index",
        mandatory = True,
    ),
    "repository": attr.string(
        doc = "Repository URL to push to, e.g. `index.docker.io/<user>/image`. Digests and tags are not allowed. Without it (or `repository_file`), pass `--repository` at run time.",
    ),
    "repository_file": attr.label(
        doc = "The same as 'repository' but in a file (e.g. stamped). Ignored when `repository` is set.",
        allow_single_file = True,
    ),
    "remote_tags": attr.label(
        doc = "a text file containing tags, one per line, applied after the push (after the `-t` tags given at run time).",
        allow_single_file = True,
    ),
    "_ocitool_run": ocitool_attr("target"),
}

def _has_tag_or_digest(repository):
    if "@" in repository:
        return True
    return ":" in repository.rsplit("/", 1)[-1]

def _impl(ctx):
    if not ctx.file.image.is_directory:
        fail("image attribute must be a oci_image or oci_image_index")
    if ctx.attr.repository and _has_tag_or_digest(ctx.attr.repository):
        fail("`repository` attribute should not contain digest or tag. got: {}".format(ctx.attr.repository))
    tool = ctx.executable._ocitool_run
    image = ctx.file.image
    cmd = [tool.short_path, "push", "--image", image.short_path]
    runfiles = [tool, image]
    if not ctx.attr.repository and ctx.file.repository_file:
        cmd.extend(["--repository-file", ctx.file.repository_file.short_path])
        runfiles.append(ctx.file.repository_file)
    if ctx.file.remote_tags:
        cmd.extend(["--remote-tags", ctx.file.remote_tags.short_path])
        runfiles.append(ctx.file.remote_tags)

    # What follows "--" is parsed with rules_oci's grammar; the user's "$@" comes after
    # the attribute's repository, so `-r` at run time overrides it.
    cmd.append("--")
    if ctx.attr.repository:
        cmd.extend(["--repository", ctx.attr.repository])
    return [run_script(ctx, cmd, runfiles)]

oci_push = rule(
    implementation = _impl,
    attrs = _attrs,
    doc = """`bazel run :push -- [-r REPOSITORY] [-t TAG]... [--insecure] [-v] [--platform P] [--allow-nondistributable-artifacts]`
pushes the image or index by digest, then tags it, as rules_oci's oci_push. Credentials
come from the Docker keychain (~/.docker/config.json and credential helpers).""",
    executable = True,
)
