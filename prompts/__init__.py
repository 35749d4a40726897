"""Versioned prompt templates (`<name>.v<N>.md`), rendered strictly: a missing variable fails."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError

_FILE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.md$")
# Prompts are plain text for a model, never HTML: escaping would corrupt them.
_ENV = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701


class PromptError(ValueError):
    """A prompt that does not exist or cannot be rendered with the variables given."""


class Rendered:
    """A rendered prompt with the name and version to log beside every call that uses it."""

    __slots__ = ("name", "text", "version")

    def __init__(self, name: str, version: int, text: str) -> None:
        self.name, self.version, self.text = name, version, text

    @property
    def ref(self) -> str:
        return f"{self.name}.v{self.version}"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[int, str]]:
    """Every prompt file shipped with the package, by name and version."""
    found: dict[str, dict[int, str]] = {}
    for entry in files("prompts").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.setdefault(match["name"], {})[int(match["version"])] = entry.read_text("utf-8")
    return found


def render(name: str, version: int | None = None, **variables: Any) -> Rendered:
    """Render a prompt; the latest version unless one is named."""
    versions = catalogue().get(name)
    if not versions:
        raise PromptError(f"no prompt named {name!r} (have: {', '.join(sorted(catalogue()))})")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise PromptError(f"prompt {name!r} has no version {chosen} (have {sorted(versions)})")
    try:
        text = _ENV.from_string(versions[chosen]).render(**variables)
    except TemplateError as exc:
        raise PromptError(f"prompt {name}.v{chosen}: {exc}") from None
    return Rendered(name, chosen, text.strip())
