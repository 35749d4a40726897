"""`copilot eval run`: the chosen suites, one report."""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from evals.bench.knowledge import DATASETS
from evals.judge import JudgeConfig
from evals.report import Provenance, Run, Suite
from evals.suites import benchmarks
from evals.suites import scenarios as scenario_suite
from tools.errors import CopilotError, InvalidInput

if TYPE_CHECKING:
    from copilot.engine import Engine
    from copilot.settings import Settings
    from copilot.testing.fake_openai import FakeOpenAI
    from tools.base import Systems

EngineKind = Literal["offline", "llm"]
FAKE_MODEL = "model-like-fake"
SUITES = ("scenarios", *benchmarks.SUITES)
GROUPS = {"all": SUITES, "benchmarks": tuple(benchmarks.SUITES)}


def expand(names: list[str]) -> list[str]:
    """Suite names in run order, groups expanded; an unknown name is InvalidInput."""
    out: list[str] = []
    for name in names:
        for one in GROUPS.get(name, (name,)):
            if one not in SUITES:
                known = ", ".join([*SUITES, *GROUPS])
                raise InvalidInput("suite", f"unknown suite {one!r} (known: {known})")
            if one not in out:
                out.append(one)
    return out


def select(folder: Path, only: list[str] | None = None) -> list[Path]:
    """The folder's scenario files, or those whose name (no .yaml) matches an --only pattern
    (a name or a glob); a pattern matching none is InvalidInput naming the closest names."""
    files = scenario_suite.files(folder)
    if not only:
        return files
    names = [f.stem for f in files]
    for pattern in only:
        if not fnmatch.filter(names, pattern):
            close = difflib.get_close_matches(pattern, names, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InvalidInput("only", f"no scenario {pattern!r} in {folder}{hint}")
    return [f for f in files if any(fnmatch.fnmatchcase(f.stem, p) for p in only)]


def scenario_hash(files: list[Path]) -> str:
    """sha256 over the files' names and contents in name order, first 12 hex digits."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def scenario_run(
    engine: EngineKind,
    trials: int,
    folder: Path,
    tick: Callable[[str], None] | None,
    on_files: Callable[[int], None] | None = None,
    judge: JudgeConfig | None = None,
    only: list[str] | None = None,
) -> Suite:
    from copilot.runtime import build_engine
    from copilot.settings import load_settings

    try:
        files = select(folder, only)
    except CopilotError as exc:
        return Suite(name="scenarios", status="error", message=exc.message)
    if on_files:
        on_files(len(files))
    with contextlib.ExitStack() as stack:
        fake: FakeOpenAI | None = None
        try:
            settings = load_settings()
            if engine == "offline":
                settings = settings.model_copy(update={"llm_base_url": None})
            elif not settings.llm_base_url:  # a real model when one is configured
                fake = stack.enter_context(_fake_model())
                settings = settings.model_copy(
                    update={"llm_base_url": fake.url, "llm_model": FAKE_MODEL, "llm_coalesce_ms": 0}
                )
            # Each scenario is its own world: no touchpoints, so one scenario's session never
            # shows in the next one's journey, or a suite's verdicts would depend on its order.
            built = build_engine(
                settings,
                f"sqlite:///{scenario_suite.scratch() / 'sessions.db'}",
                touchpoints=None,
            )
        except CopilotError as exc:
            return Suite(name="scenarios", status="error", message=exc.message)
        suite = _scenarios(built, files, trials, tick, judge, _copies(settings))
        if fake is not None:
            suite.metrics.append(scenario_suite.request_leaks(fake.requests))
        return suite


def _fake_model() -> FakeOpenAI:
    """No COPILOT_LLM_BASE_URL: the model-like fake on loopback stands in for a model."""
    from copilot.testing import model_like
    from copilot.testing.fake_openai import FakeOpenAI

    return FakeOpenAI(responder=model_like.respond)


def _scenarios(
    built: Engine,
    files: list[Path],
    trials: int,
    tick: Callable[[str], None] | None,
    judge: JudgeConfig | None,
    fresh: Callable[[], Systems] | None = None,
) -> Suite:
    # Load the models and the lexical index before anything is timed: time to card is warm.
    built.warm_up()
    grader = None
    if judge is not None:
        from evals.judge import Judge

        if built.deps.embedder is None:
            return Suite(name="scenarios", status="error", message="the judge needs an embedder")
        grader = Judge(judge, built.deps.embedder)
    return scenario_suite.run(built, files, trials, tick, grader, fresh)


def _copies(settings: Settings) -> Callable[[], Systems] | None:
    """Fresh copies of the embedded systems for scenarios that write; None for other backends."""
    from copilot.systems import build_systems, embedded, private_copy

    if not embedded(settings):
        return None

    def fresh() -> Systems:
        copied = private_copy(settings, scenario_suite.scratch())
        return build_systems(copied or settings)

    return fresh


def _llm_label(engine: EngineKind) -> str:
    if engine == "offline":
        return "none"
    url = os.environ.get("COPILOT_LLM_BASE_URL")
    model = os.environ.get("COPILOT_LLM_MODEL", "default")
    return (
        f"{model} at {url}" if url else f"{FAKE_MODEL}: the scripted model-like server on loopback"
    )


def _shown(path: Path) -> str:
    """A path relative to the working folder when it is under it, as a rerun would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _git_commit() -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    try:
        got = subprocess.run(  # noqa: S603 - git on PATH, fixed arguments
            [git, "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return got.stdout.strip() if got.returncode == 0 else ""


def provenance(
    names: list[str],
    engine: EngineKind,
    scenarios: Path,
    only: list[str] | None,
    datasets: Path,
) -> Provenance:
    """The version, data set and scenario files a run is on, and what a rerun must set."""
    from copilot.settings import load_settings
    from copilot.systems import embedded
    from tools.demo.generate import read_spec

    try:
        version = importlib.metadata.version("copilot")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    data_dir, spec = "", None
    with contextlib.suppress(CopilotError):
        settings = load_settings()
        if embedded(settings):
            data_dir = _shown(Path(settings.data_dir))
            spec = read_spec(Path(settings.data_dir))
    files: list[Path] = []
    if "scenarios" in names:
        with contextlib.suppress(CopilotError):
            files = select(scenarios, only)
    wanted = ["COPILOT_DATA_DIR", "COPILOT_KB_DIR"]
    if engine == "llm":
        wanted += ["COPILOT_LLM_BASE_URL", "COPILOT_LLM_MODEL"]
    command_env = {k: os.environ[k] for k in wanted if os.environ.get(k)}
    if engine == "llm" and not os.environ.get("COPILOT_LLM_BASE_URL"):
        command_env["COPILOT_LLM_BASE_URL"] = ""  # the model-like fake, not a configured model
    return Provenance(
        copilot_version=version,
        git_commit=_git_commit(),
        data_dir=data_dir,
        data_customers=spec.customers if spec else None,
        data_seed=spec.seed if spec else None,
        data_as_of=spec.as_of if spec else None,
        scenario_folder=_shown(scenarios) if "scenarios" in names else "",
        scenario_files=len(files),
        scenario_hash=scenario_hash(files) if files else "",
        only=list(only or []),
        datasets="" if datasets == DATASETS else _shown(datasets),
        command_env=command_env,
    )


def run(
    names: list[str],
    *,
    engine: EngineKind = "offline",
    trials: int = 1,
    datasets: Path = DATASETS,
    scenarios: Path = scenario_suite.FOLDER,
    on_suite: Callable[[str, int], None] | None = None,
    tick: Callable[[str], None] | None = None,
    judge: JudgeConfig | None = None,
    only: list[str] | None = None,
) -> Run:
    """Run the suites in order; each suite's own failure is reported in it, never raised."""
    suites: list[Suite] = []
    order = expand(names)
    ran_on = provenance(order, engine, scenarios, only, datasets)  # before any file can change
    for name in order:
        if name == "scenarios":
            suites.append(
                scenario_run(
                    engine,
                    trials,
                    scenarios,
                    tick,
                    (lambda n: on_suite("scenarios", n)) if on_suite else None,
                    judge,
                    only,
                )
            )
        else:
            if on_suite:
                on_suite(name, 1)
            suites.append(benchmarks.run(name, datasets))
            if tick:
                tick(name)
    return Run(
        run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6],
        engine=engine,
        trials=trials,
        suites=suites,
        environment={
            "python": platform.python_version(),
            "machine": platform.machine(),
            "datasets": str(datasets),
            "judge": f"{judge.model} at {judge.url}" if judge else "none",
            "llm": _llm_label(engine),
        },
        provenance=ran_on,
    )
