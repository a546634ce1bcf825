"""host_tool_transition: build a tool that actions run for the host, not in the exec configuration.

A tool attribute with cfg = "exec" gets its own configuration, so its Go standard library
is compiled once more than the payload's. This transition instead sets --platforms to the
host's rules_go platform (e.g. @rules_go//go/toolchain:linux_amd64), the same label a
go_cross_binary for the host's platform uses; with the rules_go settings in .bazelrc
(pure, static) both end up in one configuration and share one standard library. The tool
still runs on the host whatever the target platforms are (e.g. under oci_image_index's
arm64 transition). Local execution only: the tool is built for the host, which is where
actions run without remote execution.

    "_tool": attr.label(default = ..., executable = True, cfg = host_tool_transition),
"""

load("@platforms//host:constraints.bzl", "HOST_CONSTRAINTS")

_GOOS = {
    "@platforms//os:linux": "linux",
    "@platforms//os:osx": "darwin",
    "@platforms//os:macos": "darwin",
    "@platforms//os:windows": "windows",
    "@platforms//os:freebsd": "freebsd",
}

_GOARCH = {
    "@platforms//cpu:x86_64": "amd64",
    "@platforms//cpu:aarch64": "arm64",
    "@platforms//cpu:arm64": "arm64",
}

def _host_go_platform():
    goos = [_GOOS[c] for c in HOST_CONSTRAINTS if c in _GOOS]
    goarch = [_GOARCH[c] for c in HOST_CONSTRAINTS if c in _GOARCH]
    if len(goos) != 1 or len(goarch) != 1:
        return None
    return "@rules_go//go/toolchain:{}_{}".format(goos[0], goarch[0])

HOST_GO_PLATFORM = _host_go_platform()

def _host_tool_transition_impl(settings, _attr):
    if HOST_GO_PLATFORM:
        return {"//command_line_option:platforms": [HOST_GO_PLATFORM]}

    # A host rules_go names no platform for: Bazel's own host platform.
    return {"//command_line_option:platforms": [str(settings["//command_line_option:host_platform"])]}

host_tool_transition = transition(
    implementation = _host_tool_transition_impl,
    inputs = ["//command_line_option:host_platform"],
    outputs = ["//command_line_option:platforms"],
)
