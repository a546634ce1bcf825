"""oci_tarball_rule: rules_oci 2.3's oci_load rule (wrapped by the oci_load macro in //tools/oci:defs.bzl)."""

load(":util.bzl", "ocitool_attr", "run_script")

attrs = {
    "format": attr.string(
        default = "docker",
        doc = "Format of the tarball: docker (for an image) or oci (for an image index).",
        values = ["docker", "oci"],
    ),
    "image": attr.label(mandatory = True, allow_single_file = True, doc = "Label of a directory containing an OCI layout, typically `oci_image`"),
    "repo_tags": attr.label(
        doc = "a file containing repo_tags, one per line.",
        allow_single_file = [".txt"],
        mandatory = True,
    ),
    "loader": attr.label(
        doc = "Alternative container CLI run as `<loader> load --input FILE` by `bazel run`; by default the first of docker, podman, nerdctl on PATH.",
        allow_files = True,
        mandatory = False,
        executable = True,
        cfg = "target",
    ),
    "_ocitool": ocitool_attr("exec"),
    "_ocitool_run": ocitool_attr("target"),
}

def _load_impl(ctx):
    image = ctx.file.image
    repo_tags = ctx.file.repo_tags

    # Large, and rarely an input of anything: built only when the `tarball` output group
    # is asked for (`bazel build :load --output_groups=+tarball`).
    tarball = ctx.actions.declare_file("{}/tarball.tar".format(ctx.label.name))
    args = ctx.actions.args()
    args.add("tarball")
    args.add("--image", image.path)  # a directory: add_all would list its files
    args.add("--repo-tags", repo_tags)
    args.add("--format", ctx.attr.format)
    args.add("--out", tarball)
    ctx.actions.run(
        executable = ctx.executable._ocitool,
        arguments = [args],
        inputs = [image, repo_tags],
        outputs = [tarball],
        mnemonic = "OCITarball",
        progress_message = "OCI Tarball %{label}",
    )

    # `bazel run` streams the tarball into the loader; nothing is written to disk.
    tool = ctx.executable._ocitool_run
    cmd = [tool.short_path, "load", "--image", image.short_path, "--repo-tags", repo_tags.short_path, "--format", ctx.attr.format]
    runfiles = [tool, image, repo_tags]
    if ctx.executable.loader:
        cmd.extend(["--loader", ctx.executable.loader.short_path])
        runfiles.append(ctx.executable.loader)
    extra = [ctx.attr.loader[DefaultInfo].default_runfiles] if ctx.attr.loader else []
    return [
        run_script(ctx, cmd, runfiles, extra),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

oci_load = rule(
    implementation = _load_impl,
    attrs = attrs,
    doc = """Loads an OCI layout into a container engine with `bazel run`, as rules_oci's oci_load.

The default output is the run script; the `tarball` output group holds `<name>/tarball.tar`,
built only when requested.""",
    executable = True,
)
