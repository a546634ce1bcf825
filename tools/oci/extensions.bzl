"""The `oci` module extension with rules_oci 2.3.2's interface: tags `pull` and `toolchains`.

In MODULE.bazel (rules_oci: `use_extension("@rules_oci//oci:extensions.bzl", "oci")`):

    oci = use_extension("//tools/oci:extensions.bzl", "oci")
    oci.pull(
        name = "alpine",
        image = "index.docker.io/library/alpine",
        digest = "sha256:...",
        platforms = ["linux/amd64", "linux/arm64/v8"],
    )
    use_repo(oci, "alpine", "alpine_linux_amd64", "alpine_linux_arm64_v8")

Repositories, as rules_oci names them: `@<name>_<os>_<arch>[_<variant>]` per platform (or
`@<name>_single` without `platforms`), each with the target `:<its name>` (the image as one
OCI layout directory); `@<name>` with `:digest` and `:<name>`, selecting the platform image
by the target CPU (no default: an unlisted CPU fails). Platforms match exactly:
`linux/arm64` does not select an index entry `linux/arm64/v8`. Repositories are fetched only
when a build uses them. Registry credentials come from the docker config
(~/.docker/config.json, credential helpers, or `config`).
"""

load("//tools/oci/private:pull.bzl", "PLATFORM_TO_BAZEL_CPU", "oci_alias", "oci_pull")

pull = tag_class(attrs = {
    "name": attr.string(doc = "Name of the generated repository"),
    "www_authenticate_challenges": attr.string_dict(doc = "Registry host -> WWW-Authenticate challenge. Accepted for compatibility; go-containerregistry reads the challenge from the registry itself."),
    "registry": attr.string(doc = "the remote registry domain, such as `gcr.io` or `docker.io`. When set, `repository` must also be set, and `image` must not be set."),
    "repository": attr.string(doc = "the image path beneath the registry, such as `distroless/static`. When set, `registry` must also be set, and `image` must not be set."),
    "image": attr.string(doc = "the remote image, such as `gcr.io/bazel-public/bazel`, optionally with `:tag` or `@digest`. When set, `registry` and `repository` must not be set."),
    "platforms": attr.string_list(doc = "for multi-architecture images, the platforms (os/arch[/variant]) to pull; one repository each."),
    "digest": attr.string(doc = "the digest string, starting with \"sha256:\". If omitted, a warning names the digest to pin."),
    "tag": attr.string(doc = "a tag to choose an image from the registry; not reproducible, so a warning is printed."),
    "reproducible": attr.bool(doc = "Set to False to silence the warning about reproducibility when using `tag`.", default = True),
    "config": attr.label(doc = "Label to a .docker/config.json file"),
    "bazel_tags": attr.string_list(doc = "Bazel tags to be propagated to generated rules."),
})

toolchains = tag_class(attrs = {
    "name": attr.string(doc = "Base name for generated repositories. Accepted for compatibility: these rules need no crane or regctl toolchains.", default = "oci"),
})

def _parse_image(image):
    """(registry/repository, digest, tag) of an image reference."""
    digest = ""
    tag = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)
    if ":" in last[-1]:
        repo, tag = last[-1].split(":", 1)
        image = (last[0] + "/" + repo) if len(last) == 2 else repo
    return image, digest, tag

def _pull(pull):
    name = pull.name
    if (pull.repository and not pull.registry) or (pull.registry and not pull.repository):
        fail("oci.pull(name = %r): when one of repository or registry is set, the other must be as well" % name)
    if pull.image and (pull.repository or pull.registry):
        fail("oci.pull(name = %r): only one of 'image' or '{registry, repository}' may be set" % name)
    if not pull.image and not pull.repository:
        fail("oci.pull(name = %r): one of 'image' or '{registry, repository}' must be set" % name)
    digest = pull.digest
    tag = pull.tag
    if pull.image:
        image, d, t = _parse_image(pull.image)
        digest = d or digest
        tag = t or tag
    else:
        image = pull.registry + "/" + pull.repository
    if digest and tag and not pull.reproducible:
        fail("oci.pull(name = %r): only one of 'digest' or 'tag' may be set when 'reproducible' is False" % name)
    if not digest and not tag:
        fail("oci.pull(name = %r): at least one of 'digest' or 'tag' must be set" % name)
    ident = digest or tag
    common = dict(pull_name = name, image = image, identifier = ident, config = pull.config)
    repos = [name]  # what `use_repo` lists, as rules_oci's: not the _single repository
    if pull.platforms:
        platform_to_image = {}
        for plat in pull.platforms:
            plat_name = "_".join([name] + plat.split("/"))
            oci_pull(name = plat_name, platform = plat, target_name = plat_name, bazel_tags = pull.bazel_tags, **common)
            repos.append(plat_name)
            if plat in PLATFORM_TO_BAZEL_CPU:
                platform_to_image[PLATFORM_TO_BAZEL_CPU[plat]] = "@" + plat_name
        if not platform_to_image:
            fail("oci.pull(name = %r): none of the provided platforms (%s) are supported. Supported platforms: %s" % (name, pull.platforms, PLATFORM_TO_BAZEL_CPU.keys()))
        oci_alias(
            name = name,
            target_name = name,
            platforms = platform_to_image,
            available_platforms = pull.platforms,
            first_platform = pull.platforms[0],
            reproducible = pull.reproducible,
            **common
        )
    else:
        single = name + "_single"
        oci_pull(name = single, platform = "", target_name = single, bazel_tags = pull.bazel_tags, **common)
        oci_alias(name = name, target_name = name, single = single, reproducible = pull.reproducible, **common)
    return repos

def _oci_extension(module_ctx):
    root_direct_deps = []
    root_direct_dev_deps = []
    reproducible = True
    for mod in module_ctx.modules:
        for pull in mod.tags.pull:
            if not pull.reproducible or not pull.digest:
                reproducible = False
            repos = _pull(pull)
            if mod.is_root:
                deps = root_direct_dev_deps if module_ctx.is_dev_dependency(pull) else root_direct_deps
                deps.extend(repos)
        for tc in mod.tags.toolchains:
            if tc.name != "oci" and not mod.is_root:
                fail("Only the root module may override the default name for the oci toolchains.")
    return module_ctx.extension_metadata(
        root_module_direct_deps = root_direct_deps,
        root_module_direct_dev_deps = root_direct_dev_deps,
        reproducible = reproducible,
    )

oci = module_extension(
    implementation = _oci_extension,
    tag_classes = {
        "pull": pull,
        "toolchains": toolchains,
    },
)
