"""Docker's HEALTHCHECK for any OCI image layout (not part of rules_oci, which has none).

    load("//tools/healthcheck:defs.bzl", "docker_healthcheck")

docker_healthcheck takes ANY single-image OCI layout (this repository's oci_image or
rules_oci's) and writes a new layout whose config has Docker's Healthcheck, plus the
`<name>.digest` target as rules_oci names it. The OCI image spec has no health check:
Docker honours it, Podman keeps it only in docker format, other engines ignore it.
"""

load("//tools/oci/cmd/ocitool:run.bzl", "layout_digest_target", "ocitool_attr", "run_spec")

def _docker_healthcheck_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".json.sha256")
    spec = {
        "image": ctx.file.image.path,
        "healthcheck": {
            "test": ctx.attr.test,
            "interval": ctx.attr.interval,
            "timeout": ctx.attr.check_timeout,
            "start_period": ctx.attr.start_period,
            "retries": ctx.attr.retries,
        },
        "out": out.path,
        "digest_out": digest.path,
    }
    run_spec(ctx, "config", spec, [ctx.file.image], [out, digest], "DockerHealthcheck", "Adding the HEALTHCHECK of %{label}")
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        OutputGroupInfo(digest = depset([digest])),
    ]

docker_healthcheck_rule = rule(
    implementation = _docker_healthcheck_impl,
    doc = "A copy of `image` (any single-image OCI layout) with Docker's HEALTHCHECK in its config.",
    attrs = {
        "image": attr.label(mandatory = True, allow_single_file = True, doc = "An OCI layout directory holding one image, e.g. an oci_image."),
        "test": attr.string_list(mandatory = True, doc = "The check as Docker stores it: [\"CMD\", \"/path\", \"arg\", ...], [\"CMD-SHELL\", \"cmd\"] or [\"NONE\"]."),
        "interval": attr.string(default = "30s", doc = "Time between checks (Go duration)."),
        # Not `timeout`: Bazel reserves that name (the timeout of tests).
        "check_timeout": attr.string(default = "30s", doc = "Time one check may take before it counts as failed (Docker's --timeout)."),
        "start_period": attr.string(default = "0s", doc = "Start-up time during which failures do not count."),
        "retries": attr.int(default = 3, doc = "Consecutive failures that make the container unhealthy."),
        "_ocitool": ocitool_attr("exec"),
    },
)

def docker_healthcheck(name, **kwargs):
    """docker_healthcheck_rule plus the `<name>.digest` target (file `<name>.json.sha256`), as rules_oci names it.

    Args:
      name: the target; its output is the OCI layout directory `<name>`.
      **kwargs: image, test, interval, check_timeout, start_period, retries and common attributes.
    """
    docker_healthcheck_rule(name = name, **kwargs)
    layout_digest_target(name, kwargs)
