"""Container image rules with rules_oci 2.3.2's interface, on go-containerregistry.

Load them as rules_oci's:

    load("//tools/oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")

Switching to rules_oci is changing `//tools/oci:` to `@rules_oci//oci:` (see README.md).
As upstream's, these macros turn list and dict values into files (write_file), add the
`<name>.digest` target, then call the rule of the same name in private/. The rules only
declare inputs and outputs and run one Go tool, ocitool (//tools/oci/cmd/ocitool).
"""

load("@bazel_skylib//lib:types.bzl", "types")
load("@bazel_skylib//rules:write_file.bzl", "write_file")
load("//tools/oci/private:image.bzl", _oci_image = "oci_image")
load("//tools/oci/private:image_index.bzl", _oci_image_index = "oci_image_index")
load("//tools/oci/private:load.bzl", _oci_tarball = "oci_load")
load("//tools/oci/private:push.bzl", _oci_push = "oci_push")

oci_tarball_rule = _oci_tarball
oci_image_rule = _oci_image
oci_image_index_rule = _oci_image_index
oci_push_rule = _oci_push

# The attributes every rule has, passed on to the targets the macros add.
_COMMON_ATTRS = [
    "compatible_with",
    "deprecation",
    "exec_compatible_with",
    "exec_properties",
    "features",
    "restricted_to",
    "tags",
    "target_compatible_with",
    "testonly",
    "toolchains",
    "visibility",
]

# Tags that change how actions run or are cached; the only ones internal targets keep.
_WELL_KNOWN_TAGS = [
    "no-sandbox",
    "no-cache",
    "no-remote-cache",
    "no-remote-exec",
    "no-remote",
    "local",
    "requires-network",
    "block-network",
    "requires-fakeroot",
    "no-remote-cache-upload",
]

def _common(kwargs):
    return {k: v for k, v in kwargs.items() if k in _COMMON_ATTRS}

def _internal(forwarded):
    """Common attributes for implementation-detail targets: well-known tags only, plus manual."""
    internal = dict(forwarded)
    tags = [t for t in internal.get("tags", []) if t in _WELL_KNOWN_TAGS]
    internal["tags"] = tags + ["manual"]
    internal.pop("toolchains", None)
    return internal

def _write_nl_seperated_file(name, kind, elems, forwarded_kwargs):
    label = "{}_write_{}".format(name, kind)
    write_file(
        name = label,
        out = "{}.{}.txt".format(name, kind),
        # %5Cn stands for a newline inside an element.
        content = [elem.replace("\n", "%5Cn") for elem in elems],
        **forwarded_kwargs
    )
    return label

def _check_lines(name, kind, elems):
    """Fails when an element would be dropped or split by a one-per-line file."""
    for elem in elems:
        if elem.strip() == "" or "\n" in elem or "\r" in elem:
            fail("%s: %s: %r: an entry must be non-empty and on one line" % (name, kind, elem))

def _write_dict(name, kind, values, forwarded_kwargs):
    for key, value in values.items():
        if "\n" in key or "\n" in value:
            fail("%s: %s: %r=%r: a key or value must not hold a newline (the %s file has one KEY=VALUE per line)" % (name, kind, key, value, kind))
    label = "{}_write_{}".format(name, kind)
    write_file(
        name = label,
        out = "{}.{}.txt".format(name, kind),
        content = ["{}={}".format(key, value) for (key, value) in values.items()],
        **forwarded_kwargs
    )
    return label

def _digest(name, **kwargs):
    # Matches rules_oci's (and rules_docker's) [name].digest target: a file
    # [name].json.sha256 holding "sha256:...\n", the digest in index.json.
    native.filegroup(
        name = name + ".digest",
        srcs = [name],
        output_group = "digest",
        **kwargs
    )

def oci_image_index(name, annotations = None, **kwargs):
    """Macro wrapper around oci_image_index_rule, as rules_oci's.

    Produces a target `[name].digest` holding the digest of the index.

    Args:
        name: name of resulting oci_image_index_rule
        annotations: Annotations of the index: a dict, or a file of key=value lines.
        **kwargs: other named arguments to oci_image_index_rule and common rule attributes.
    """
    forwarded_kwargs = _common(kwargs)
    if types.is_dict(annotations):
        annotations = _write_dict(name, "annotations", annotations, _internal(forwarded_kwargs))
    oci_image_index_rule(
        name = name,
        annotations = annotations,
        **kwargs
    )
    _digest(name = name, **forwarded_kwargs)

def oci_image(
        name,
        created = None,
        labels = None,
        annotations = None,
        env = None,
        cmd = None,
        entrypoint = None,
        exposed_ports = None,
        volumes = None,
        **kwargs):
    """Macro wrapper around oci_image_rule, as rules_oci's.

    Label/annotation/env may be a dict or a file of key=value lines; cmd, entrypoint,
    exposed_ports and volumes a list or a file. Produces a target `[name].digest`.

    Args:
        name: name of resulting oci_image_rule
        created: Label to a file containing a single datetime string.
        labels: Labels for the image config (dict or file).
        annotations: Annotations for the image manifest (dict or file).
        env: Environment variables (dict or file); values may use $VAR of the base and earlier entries.
        cmd: Command & arguments (list or file of one element per line).
        entrypoint: Entrypoint (list or file); setting it resets the base's cmd.
        exposed_ports: Exposed ports (list or file of one comma-separated line).
        volumes: Volumes (list or file of one comma-separated line).
        **kwargs: other named arguments to oci_image_rule and common rule attributes.
    """
    forwarded_kwargs = _common(kwargs)
    internal_kwargs = _internal(forwarded_kwargs)

    if types.is_dict(annotations):
        annotations = _write_dict(name, "annotations", annotations, internal_kwargs)
    if types.is_dict(labels):
        labels = _write_dict(name, "labels", labels, internal_kwargs)
    if types.is_dict(env):
        env = _write_dict(name, "env", env, internal_kwargs)
    if types.is_list(cmd):
        cmd = _write_nl_seperated_file(name = name, kind = "cmd", elems = cmd, forwarded_kwargs = internal_kwargs)
    if types.is_list(entrypoint):
        entrypoint = _write_nl_seperated_file(name = name, kind = "entrypoint", elems = entrypoint, forwarded_kwargs = internal_kwargs)
    if types.is_list(exposed_ports):
        exposed_ports_label = "{}_write_exposed_ports".format(name)
        write_file(
            name = exposed_ports_label,
            out = "{}.exposed_ports.txt".format(name),
            content = [",".join(exposed_ports)],
            **internal_kwargs
        )
        exposed_ports = exposed_ports_label
    if types.is_list(volumes):
        volumes_label = "{}_write_volumes".format(name)
        write_file(
            name = volumes_label,
            out = "{}.volumes.txt".format(name),
            content = [",".join(volumes)],
            **internal_kwargs
        )
        volumes = volumes_label

    oci_image_rule(
        name = name,
        created = created,
        annotations = annotations,
        labels = labels,
        env = env,
        cmd = cmd,
        entrypoint = entrypoint,
        exposed_ports = exposed_ports,
        volumes = volumes,
        **kwargs
    )
    _digest(name = name, **forwarded_kwargs)

def oci_push(name, remote_tags = None, **kwargs):
    """Macro wrapper around oci_push_rule, as rules_oci's.

    Args:
        name: name of resulting oci_push_rule
        remote_tags: a list of tags to apply after pushing, or a file of one tag per line.
        **kwargs: other named arguments to oci_push_rule and common rule attributes.
    """
    internal_kwargs = _internal(_common(kwargs))
    if types.is_list(remote_tags):
        _check_lines(name, "remote_tags", remote_tags)
        tags_label = "{}_write_tags".format(name)
        write_file(
            name = tags_label,
            out = "{}.tags.txt".format(name),
            content = remote_tags,
            **internal_kwargs
        )
        remote_tags = tags_label
    oci_push_rule(
        name = name,
        remote_tags = remote_tags,
        **kwargs
    )

def oci_load(name, repo_tags = None, **kwargs):
    """Macro wrapper around oci_tarball_rule (oci_load), as rules_oci's.

    Args:
        name: name of resulting oci_tarball_rule
        repo_tags: a list of repository:tag to load the image as, or a file of one per line.
        **kwargs: other named arguments to oci_tarball_rule and common rule attributes.
    """
    internal_kwargs = _internal(_common(kwargs))
    if types.is_list(repo_tags):
        _check_lines(name, "repo_tags", repo_tags)
        tags_label = "{}_write_tags".format(name)
        write_file(
            name = tags_label,
            out = "{}.tags.txt".format(name),
            content = repo_tags,
            **internal_kwargs
        )
        repo_tags = tags_label
    oci_tarball_rule(
        name = name,
        repo_tags = repo_tags,
        **kwargs
    )
