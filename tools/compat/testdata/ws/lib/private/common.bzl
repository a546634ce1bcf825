"""Fixture: attributes shared through a load()."""

COMMON_ATTRS = {"loader": attr.label(allow_files = True, executable = True, cfg = "target")}
