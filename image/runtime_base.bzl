"""runtime_base: the part of //image that does not depend on cat-server's code.

    load(":runtime_base.bzl", "runtime_base")

    runtime_base(name = "runtime_base", base = ":base", passwd = ":passwd")

The base plus the passwd/group layer (<name>_layers), Docker's HEALTHCHECK running
`cat-server healthcheck` (<name>_healthcheck) and the numeric user of the passwd layer
(<name>). After a code edit only the app layer and the image on top are built again.
"""

load("//tools/healthcheck:defs.bzl", "docker_healthcheck")
load("//tools/nonroot:defs.bzl", "numeric_user")
load("//tools/oci:defs.bzl", "oci_image")

HEALTHCHECK_TEST = [
    "CMD",
    "/app/cat-server",
    "healthcheck",
]

def runtime_base(name, base, passwd, **kwargs):
    """The runtime base image: base + passwd layer, HEALTHCHECK, non-root numeric user.

    Args:
      name: the resulting OCI layout (a numeric_user target).
      base: the base image.
      passwd: a passwd_layer target, added as a layer and giving the user.
      **kwargs: common attributes (tags, visibility) for every target.
    """
    oci_image(
        name = name + "_layers",
        base = base,
        tars = [passwd],
        **kwargs
    )
    docker_healthcheck(
        name = name + "_healthcheck",
        check_timeout = "3s",
        image = name + "_layers",
        interval = "30s",
        retries = 3,
        start_period = "5s",
        test = HEALTHCHECK_TEST,
        **kwargs
    )
    numeric_user(
        name = name,
        image = name + "_healthcheck",
        passwd = passwd,
        **kwargs
    )
