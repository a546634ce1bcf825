"""Fixture: attribute dicts built in the ways rule files build them."""

load("//lib/private:common.bzl", "COMMON_ATTRS")

_EXTS = [
    ".tar",
    ".tar.gz",
]

_attrs = {
    "image": attr.label(mandatory = True, allow_single_file = True),
    "tars": attr.label_list(allow_files = _EXTS),
    "driver": attr.string(default = "docker", values = ["docker", "tar"]),
    "_tool": attr.label(default = "//x:y"),
} | COMMON_ATTRS

thing = rule(
    implementation = lambda ctx: None,
    attrs = dict(_attrs, **{"count": attr.int(default = 3)}),
    test = True,
)

thing_lib = struct(implementation = lambda ctx: None, attrs = _attrs)
