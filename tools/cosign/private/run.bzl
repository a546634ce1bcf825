"""What cosign_sign and cosign_attest share: the repository check and the run script."""

load("//tools/runscript:runscript.bzl", "write_run_script")

COSIGNRUN = attr.label(
    default = Label("//tools/cosign/cmd/cosignrun"),
    executable = True,
    cfg = "target",
)

def check_repository(repository):
    """Fails as upstream for a repository attribute with a tag or digest (upstream refuses any ':')."""
    if repository and (repository.find(":") != -1 or repository.find("@") != -1):
        fail("repository attribute should not contain digest or tag.")

def cosign_script(ctx, verb, fixed_args, files):
    """An executable running `cosignrun VERB IMAGE FIXED_ARGS... "$@"` in this repository's runfiles.

    Args:
      ctx: the rule context (attributes image, repository, _cosignrun).
      verb: "sign" or "attest".
      fixed_args: the rule's arguments before the repository (paths as short_path).
      files: files the command reads at run time.

    Returns:
      DefaultInfo with the script as executable.
    """
    tool = ctx.executable._cosignrun
    args = [tool.short_path, verb, ctx.file.image.short_path] + fixed_args
    if ctx.attr.repository:
        args.extend(["--repository", ctx.attr.repository])
    script = write_run_script(ctx, "cosign_{}_{}.sh".format(verb, ctx.label.name), args)
    runfiles = ctx.runfiles(files = [tool, ctx.file.image] + files)
    runfiles = runfiles.merge(ctx.attr._cosignrun[DefaultInfo].default_runfiles)
    return DefaultInfo(executable = script, runfiles = runfiles)
