"""The YAML dialect of campaign specs: duplicate keys refused, 1e-3 read as a number.

PyYAML's safe loader keeps the last of two equal keys without a word, and follows YAML 1.1, where
a float needs a dot: `learning_rate: 1e-3` would be the string "1e-3", which strict spec types
then refuse. Both surprise a user who wrote the file; this loader fixes them and nothing else.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# YAML 1.2's float forms (1e-3, 1.5E+2, .5, 2.) next to 1.1's (1.0, .inf, .nan).
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class SpecYamlError(ValueError):
    """The text is not valid spec YAML; the message names the line."""


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats and no duplicate keys."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _mapping_without_duplicates(loader: _SpecLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise SpecYamlError(f"line {line}: key {key!r} repeats the one on line {seen[key]}")
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_SpecLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,
)


def load_spec_yaml(text: str) -> Any:
    """Parse spec text (YAML, so JSON too); SpecYamlError on bad syntax or a repeated key."""
    try:
        return yaml.load(text, Loader=_SpecLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise SpecYamlError(f"not valid YAML: {exc}") from None
