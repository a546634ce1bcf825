"""service_image: everything a service's container image needs, in one call (project-only).

    load("//tools/service:defs.bzl", "service_image")

    service_image(
        name = "image",
        binary = "//server/cmd/cat-server",
        ...
    )

One call per package declares, named as below (the names are fixed: one service per
package, so `bazel build //image`, `bazel run //image:push` read the same for every
service):

| target | what | command |
| --- | --- | --- |
| `<binary>_linux_amd64` | the Go binary for linux/amd64 | |
| `passwd`, `build_args` | /etc/passwd and /etc/group with the `--define` user | `bazel run :build_args` |
| `app_layer` | the binary at `binary_path` (root, 0755), plus `dirs` | |
| `runtime_base` | base + passwd layer + HEALTHCHECK + numeric user | |
| `<name>` | the image (rules_oci's `oci_image`), `<name>.digest` | `bazel build :<name>` |
| `load`, `push` | `oci_load`, `oci_push` | `bazel run :load`, `bazel run :push -- -r REPO` |
| `index`, `push_index` | the image for every platform in `platforms` | `bazel build :index` |
| `structure_test`, `structure_test_commands`, `image_checks` | the image's tests | `bazel test :all` |
| `load_for_test` | the image under the tag `<repo>:bazel-runtime-test` | |
| `sbom`, `sbom_artifact`, `push_sbom`, `vulncheck` | SBOM, as a referrer, its push, the scan | `bazel build :sbom` |
| `provenance`, `provenance_index` | SLSA v1 provenance predicates of the image and the index | `bazel build --stamp :provenance` |
| `labels`, `stamped_tags` | the image's labels and the version tag, stamped under `--stamp` | `bazel build --stamp :stamped_tags` |
| `sign`, `attest_sbom`, `attest_provenance` | rules_oci's `cosign_sign` / `cosign_attest` of the image | `bazel run :sign -- --repository=REPO --key=KEYREF` |
| `sign_index`, `attest_provenance_index` | the same for the index (`--recursive` signs its images too) | `bazel run :sign_index -- --repository=REPO --key=KEYREF --recursive` |
| `release`, `release_index` | push, SBOM referrer, sign, attest, then tag | `bazel run --stamp :release -- --repository=REPO --key=KEYREF` |

Target names also appear in the image itself (each layer's history line is
`bazel build //pkg:app_layer`), so renaming one changes the image's digest.
"""

load("@rules_go//go:def.bzl", "go_cross_binary")
load("//tools/cosign:defs.bzl", "cosign_attest", "cosign_sign")
load("//tools/cst:defs.bzl", "container_structure_test")
load("//tools/healthcheck:defs.bzl", "docker_healthcheck")
load("//tools/imagecheck:defs.bzl", "image_checks_test", "structure_test_config")
load("//tools/layer:defs.bzl", "tar_layer")
load("//tools/nonroot:defs.bzl", "build_args", "numeric_user", "passwd_layer")
load("//tools/oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")
load("//tools/provenance:defs.bzl", "slsa_provenance")
load("//tools/release:defs.bzl", "image_release")
load("//tools/sbom:defs.bzl", "image_sbom", "sbom_artifact", "vulncheck_test")
load("//tools/stamp:expand_template.bzl", "expand_template")

def runtime_base(name, base, passwd, healthcheck, **kwargs):
    """The part of an image that does not depend on the service's code.

    The base plus the passwd/group layer (<name>_layers), Docker's HEALTHCHECK
    (<name>_healthcheck) and the numeric user of the passwd layer (<name>). After a
    code edit only the app layer and the image on top are built again.

    Args:
      name: the resulting OCI layout (a numeric_user target).
      base: the base image.
      passwd: a passwd_layer target, added as a layer and giving the user.
      healthcheck: dict of docker_healthcheck's attributes (test, interval,
        check_timeout, start_period, retries).
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
        image = name + "_layers",
        **(healthcheck | kwargs)
    )
    numeric_user(
        name = name,
        image = name + "_healthcheck",
        passwd = passwd,
        **kwargs
    )

def service_image(
        name,
        binary,
        base,
        base_for_platform,
        entrypoint,
        env,
        labels,
        exposed_ports,
        healthcheck,
        workdir,
        binary_path,
        dirs,
        platforms,
        repository,
        repo_tag,
        structure_test_template,
        structure_test_commands,
        image_checks,
        defines = ["user", "uid", "gid"]):
    """Declares a service's image, its tests, SBOM, scan, pushes and index.

    Args:
      name: the image target (an oci_image); the other targets have fixed names.
      binary: the service's go_binary (pure Go); built for linux/amd64 for `name` and
        for each platform of the index.
      base: the base image for linux/amd64 (an OCI layout).
      base_for_platform: the base image built for the platform of the index's
        transition (a multi-platform pull or a rule that follows the platform).
      entrypoint: the image's entrypoint.
      env: dict of environment variables, in the order the image lists them.
      labels: dict of OCI labels; it must have org.opencontainers.image.version,
        whose value is the unstamped version. Under --stamp the version becomes the
        workspace status' STABLE_VERSION and the revision and created labels are
        added (the `labels` target, aspect_bazel_lib's expand_template pattern).
      exposed_ports: list of ports, e.g. ["8080/tcp"].
      healthcheck: dict of docker_healthcheck's attributes (test, interval,
        check_timeout, start_period, retries).
      workdir: the working directory.
      binary_path: the path of the binary in the image (e.g. "/app/cat-server").
      dirs: dict of directory => mode for directories the app layer creates.
      platforms: the platforms of the index.
      repository: the default repository of the pushes (overridden by -r at run time).
      repo_tag: the tag `load` gives the image in Docker (e.g. "cat-server:latest").
      structure_test_template: container-structure-test YAML with $(USER), $(UID)
        and $(GID) to fill in.
      structure_test_commands: container-structure-test YAML run in Docker.
      image_checks: image_checks_test YAML (size, healthcheck, setuid, ports).
      defines: the --define keys the build reads, recorded in the provenance.
    """
    binary_amd64 = Label(binary).name + "_linux_amd64"
    version = labels.get(_VERSION_LABEL)
    if not version:
        fail("service_image: labels must have %s (the version without --stamp)" % _VERSION_LABEL)

    # The labels: as given without --stamp (nothing volatile: the same digest on every
    # machine); under --stamp the version, the commit and the build time of the
    # workspace status (tools/stamp/workspace_status.sh).
    # bazel build --stamp //PKG:labels
    expand_template(
        name = "labels",
        out = "labels.txt",
        stamp_substitutions = {
            "%s=%s" % (_VERSION_LABEL, version): "\n".join([
                _VERSION_LABEL + "={{STABLE_VERSION}}",
                "org.opencontainers.image.revision={{STABLE_GIT_COMMIT}}",
                "org.opencontainers.image.created={{BUILD_TIMESTAMP_RFC3339}}",
            ]),
        },
        template = ["%s=%s" % (k, v) for k, v in labels.items()],
    )

    # The version as a tag (tag-safe), for remote_tags: upstream's stamped tags file.
    # Without --stamp it holds the unstamped version.
    # bazel build --stamp //PKG:stamped_tags
    expand_template(
        name = "stamped_tags",
        out = "stamped_tags.txt",
        stamp_substitutions = {version: "{{STABLE_VERSION_TAG}}"},
        template = [version],
    )

    go_cross_binary(
        name = binary_amd64,
        platform = "@rules_go//go/toolchain:linux_amd64",
        target = binary,
    )

    # /etc/passwd and /etc/group: the base's entries plus the user from
    # --define user=NAME --define uid=N --define gid=N (defaults app, 1000, 1000).
    passwd_layer(
        name = "passwd",
        base = base,
    )

    # bazel run //PKG:build_args
    build_args(
        name = "build_args",
        passwd = ":passwd",
    )

    # The image: the app layer on the runtime base.
    image_attrs = dict(
        entrypoint = entrypoint,
        env = env,
        exposed_ports = exposed_ports,
        labels = ":labels",
        workdir = workdir,
    )
    _image(name, binary_amd64, "", base, binary_path, dirs, healthcheck, image_attrs)

    # bazel run //PKG:load
    oci_load(
        name = "load",
        image = name,
        repo_tags = [repo_tag],
    )

    # bazel run //PKG:push -- -r REGISTRY/REPOSITORY [-t TAG]
    oci_push(
        name = "push",
        image = name,
        remote_tags = ["latest"],
        repository = repository,
    )

    # The same image for every platform of :index (its platform transition builds
    # these once per platform: the binary cross-compiled, the base of the platform).
    _image(name + "_for_platform", binary, "_for_platform", base_for_platform, binary_path, dirs, healthcheck, image_attrs, tags = ["manual"])

    # bazel build //PKG:index   (digest: bazel build //PKG:index.digest)
    oci_image_index(
        name = "index",
        images = [name + "_for_platform"],
        platforms = platforms,
    )

    # bazel run //PKG:push_index -- -r REGISTRY/REPOSITORY [-t TAG]
    oci_push(
        name = "push_index",
        image = ":index",
        remote_tags = ["latest"],
        repository = repository,
    )

    # The structure-test YAML with $(USER), $(UID) and $(GID) of this build filled in.
    structure_test_config(
        name = "structure_test_config",
        out = "structure_test.yaml",
        template = structure_test_template,
        toolchains = [":passwd"],
    )

    # bazel test //PKG:structure_test
    container_structure_test(
        name = "structure_test",
        configs = [":structure_test_config"],
        image = name,
    )

    # What structure tests have no key for: size, HEALTHCHECK, setuid files, exact ports.
    # bazel test //PKG:image_checks
    image_checks_test(
        name = "image_checks",
        checks = [image_checks],
        image = name,
    )

    # The image under a tag of its own, for runtime tests (leaves repo_tag alone).
    oci_load(
        name = "load_for_test",
        image = name,
        repo_tags = [repo_tag.rsplit(":", 1)[0] + ":bazel-runtime-test"],
    )

    # Runs commands in the image through Docker (container-structure-test's commandTests).
    # bazel test //PKG:structure_test_commands
    container_structure_test(
        name = "structure_test_commands",
        configs = [structure_test_commands],
        image = name,
        # The Docker engine is outside Bazel's view: never cache the result, never run
        # it remotely (no-remote; see README "Sharing the cache across a team").
        tags = [
            "external",
            "no-remote",
            "requires-docker",
        ],
    )

    # bazel build //PKG:sbom   (CycloneDX JSON in bazel-bin/PKG/sbom.cdx.json)
    image_sbom(
        name = "sbom",
        binary = binary_amd64,
        image = name,
    )

    # The SBOM as an OCI artifact whose subject is the image (the referrers convention).
    sbom_artifact(
        name = "sbom_artifact",
        image = name,
        sbom = ":sbom",
    )

    # bazel run //PKG:push_sbom -- -r REGISTRY/REPOSITORY   (after :push, same repository)
    oci_push(
        name = "push_sbom",
        image = ":sbom_artifact",
        repository = repository,
    )

    # bazel build --stamp //PKG:provenance   (SLSA v1 predicate: bazel-bin/PKG/provenance.json)
    source_uri = labels.get("org.opencontainers.image.source", "")
    if not source_uri:
        fail("service_image: labels must have org.opencontainers.image.source (the provenance's source)")
    slsa_provenance(
        name = "provenance",
        base = base,
        defines = defines,
        image = name,
        source_uri = source_uri,
    )

    # bazel build --stamp //PKG:provenance_index
    slsa_provenance(
        name = "provenance_index",
        base_for_platform = base_for_platform,
        defines = defines,
        image = ":index",
        platforms = platforms,
        source_uri = source_uri,
    )

    # --- signing, attestations, release (issue 16) ---------------------------------
    # No repository attribute: upstream's cosign rules refuse any ':' in it (so a
    # registry port too); the repository comes with --repository at run time.

    # bazel run //PKG:sign -- --repository=REGISTRY/REPOSITORY --key=KEYREF [cosign sign flags]
    cosign_sign(
        name = "sign",
        image = name,
    )

    # bazel run //PKG:attest_sbom -- --repository=REGISTRY/REPOSITORY --key=KEYREF [cosign attest flags]
    cosign_attest(
        name = "attest_sbom",
        image = name,
        predicate = ":sbom",
        type = "cyclonedx",
    )

    # bazel run --stamp //PKG:attest_provenance -- --repository=REGISTRY/REPOSITORY --key=KEYREF [cosign attest flags]
    cosign_attest(
        name = "attest_provenance",
        image = name,
        predicate = ":provenance",
        type = "slsaprovenance1",
    )

    # bazel run //PKG:sign_index -- --repository=REGISTRY/REPOSITORY --key=KEYREF --recursive
    cosign_sign(
        name = "sign_index",
        image = ":index",
    )

    # bazel run --stamp //PKG:attest_provenance_index -- --repository=REGISTRY/REPOSITORY --key=KEYREF
    cosign_attest(
        name = "attest_provenance_index",
        image = ":index",
        predicate = ":provenance_index",
        type = "slsaprovenance1",
    )

    # bazel run --stamp //PKG:release -- --repository=REGISTRY/REPOSITORY --key=KEYREF [--offline] [--tag=TAG]...
    image_release(
        name = "release",
        image = name,
        provenance = ":provenance",
        sbom = ":sbom",
        sbom_artifact = ":sbom_artifact",
        stamp = "//tools/stamp:stamp",
        stamped_tags = ":stamped_tags",
    )

    # The index, signed with each of its images (cosign sign --recursive), its
    # provenance attested on the index. The SBOM describes the linux/amd64 image
    # (`name`), not the index's images, so it is not attached here.
    # bazel run --stamp //PKG:release_index -- --repository=REGISTRY/REPOSITORY --key=KEYREF [--offline] [--tag=TAG]...
    image_release(
        name = "release_index",
        image = ":index",
        provenance = ":provenance_index",
        recursive = True,
        stamp = "//tools/stamp:stamp",
        stamped_tags = ":stamped_tags",
    )

    # bazel test //PKG:vulncheck --test_env=GOVULNDB=https://vuln.go.dev
    vulncheck_test(
        name = "vulncheck",
        image = name,
        sbom = ":sbom",
        tags = [
            "external",
            "no-remote",
            "requires-vulndb",
        ],
    )

_VERSION_LABEL = "org.opencontainers.image.version"

def _image(name, binary, suffix, base, path, dirs, healthcheck, image_attrs, **kwargs):
    """app_layer<suffix>, runtime_base<suffix> and the image `name` on them."""
    tar_layer(
        name = "app_layer" + suffix,
        dirs = dirs,
        files = {binary: path},
        mode = "0755",
    )
    runtime_base(
        name = "runtime_base" + suffix,
        base = base,
        healthcheck = healthcheck,
        passwd = ":passwd",
        **kwargs
    )
    oci_image(
        name = name,
        base = ":runtime_base" + suffix,
        tars = [":app_layer" + suffix],
        **(image_attrs | kwargs)
    )
