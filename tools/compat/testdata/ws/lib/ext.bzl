"""Fixture: a module extension with one tag class."""

pull = tag_class(attrs = {
    "name": attr.string(),
    "reproducible": attr.bool(default = True),
})

ext = module_extension(implementation = lambda ctx: None, tag_classes = {"pull": pull})
