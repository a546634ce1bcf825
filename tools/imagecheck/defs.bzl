"""Image tests that container-structure-test has no key for, on any OCI image layout.

`image_checks_test` checks size, HEALTHCHECK, setuid files and the exact set of exposed
ports, from files of schema "cat-server.image-checks/v1". It takes the layout directory of
any oci_image (ours or rules_oci's), so it keeps working after a switch to rules_oci.

`structure_test_config` fills $(VAR) make variables into a structure-test template, so
expected values follow the build's own --define flags.
"""

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _layout(target):
    files = target[DefaultInfo].files.to_list()
    dirs = [f for f in files if f.is_directory]
    if len(dirs) == 1:
        return dirs[0]
    if len(files) == 1:
        return files[0]
    fail("image must provide one OCI image layout directory, got %d files from %s" % (len(files), target.label))

def _image_checks_test_impl(ctx):
    image = _layout(ctx.attr.image)
    tool = ctx.executable._imagecheck
    args = [tool.short_path, "--image", image.short_path]
    for f in ctx.files.checks:
        args.extend(["--checks", f.short_path])
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/usr/bin/env bash\nset -euo pipefail\nexec %s \"$@\"\n" % " ".join([_shell_quote(a) for a in args]),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [tool, image] + ctx.files.checks)
    runfiles = runfiles.merge(ctx.attr._imagecheck[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

image_checks_test = rule(
    implementation = _image_checks_test_impl,
    doc = "Checks an OCI image layout against image-check files (size, healthcheck, setuid files, exact ports).",
    test = True,
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True, doc = "An OCI image layout directory, e.g. an oci_image."),
        "checks": attr.label_list(mandatory = True, allow_files = [".yaml", ".yml"], doc = "Files of schemaVersion cat-server.image-checks/v1."),
        "_imagecheck": attr.label(default = "//tools/imagecheck/cmd/imagecheck", executable = True, cfg = "target"),
    },
)

_REGEX_SPECIAL = "\\.+*?()|[]{}^$"

def _regex_quote(s):
    """s with every RE2 metacharacter backslash-escaped (Go's regexp.QuoteMeta)."""
    return "".join(["\\" + c if c in _REGEX_SPECIAL else c for c in s.elems()])

def _structure_test_config_impl(ctx):
    substitutions = {}
    for key, value in ctx.var.items():
        substitutions["$(%s)" % key] = value
        substitutions["$(%s_RE)" % key] = _regex_quote(value)
    out = ctx.actions.declare_file(ctx.attr.out or ctx.label.name + ".yaml")
    ctx.actions.expand_template(template = ctx.file.template, output = out, substitutions = substitutions)
    return [DefaultInfo(files = depset([out]))]

structure_test_config = rule(
    implementation = _structure_test_config_impl,
    doc = """Expands make variables such as $(UID) in a structure-test template.

$(VAR_RE) is the value of $(VAR) with regular-expression metacharacters escaped, for
use inside expectedContents and other regex fields (a user name such as `app$`).

The variables come from `toolchains` (e.g. a passwd_layer) and --define, so expected
values follow the build's own flags instead of being written twice.""",
    attrs = {
        "template": attr.label(mandatory = True, allow_single_file = True),
        "out": attr.string(doc = "Output file name; defaults to <name>.yaml."),
    },
)
