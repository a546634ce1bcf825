"""write_run_script: the executable a `bazel run` target (or a test) starts."""

def write_run_script(ctx, name, args):
    """Writes an executable running `args` then "$@", from this repository's runfiles.

    `bazel run` starts the script beside its runfiles (`$0.runfiles`); a test that runs
    it has them under RUNFILES_DIR. Either way the command starts in this repository's
    runfiles root, so `args` are paths relative to it (short_path).

    Args:
      ctx: the rule context.
      name: the script's file name.
      args: the command, paths as short_path; each word is quoted for bash.

    Returns:
      The script (a File).
    """
    script = ctx.actions.declare_file(name)
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
""".format(
            ws = ctx.workspace_name,
            cmd = " ".join(["'%s'" % a.replace("'", "'\\''") for a in args]),
        ),
        is_executable = True,
    )
    return script
