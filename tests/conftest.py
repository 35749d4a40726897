"""Shared fixtures: one demo dataset per session, the systems over both backends, live servers."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from copilot.engine import Engine
from copilot.runtime import optional_models
from copilot.session_state import IntentPredictor, MoodFollower
from evals import servers as postgres_cluster
from tools.base import Systems
from tools.demo.generate import Spec, generate
from tools.kb.embeddings import Embedder
from tools.kb.store import KnowledgeStore, connect
from tools.services import RunningServices, start_services
from tools.sql import sql_systems
from tools.sql.copy import copy_system
from tools.sql.engine import make_engine, sqlite_url

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Commands print through rich consoles made at import: one width for every test process (a
# pytest-xdist worker has no terminal to ask, and long tmp paths would wrap mid-word).
os.environ["COLUMNS"] = "200"
# Test files that read the one replay of every shipped scenario (the shipped_replays fixture):
# under `--dist loadfile` they go to one worker together, so the scenarios are played once.
REPLAY_FILES = frozenset(
    {
        "tests/engine/test_scenarios.py",
        "tests/engine/test_pii_everywhere.py",
        "tests/engine/test_reply_draft.py",
        "tests/test_card_models.py",
    }
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):  # type: ignore[misc]  # xdist ships no types
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "shipped-replays" if path in REPLAY_FILES else path

    return Scheduling(config, log)


TEST_CUSTOMERS = 2000
SYSTEMS_TOKEN = "test-token"  # the demo services' bearer token in tests
TODAY = date.today()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data dated today, so 'two weeks ago' and 'today' mean what the stories say."""
    out = tmp_path_factory.mktemp("data")
    generate(out, Spec(customers=TEST_CUSTOMERS, seed=42, as_of=TODAY))
    return out


@pytest.fixture(scope="session")
def services(data_dir: Path) -> Iterator[RunningServices]:
    with start_services(data_dir, token=SYSTEMS_TOKEN) as running:
        yield running


@pytest.fixture(scope="session")
def postgres(data_dir: Path) -> Iterator[dict[str, str]]:
    """The demo data copied into a real PostgreSQL cluster on loopback, one database per silo."""
    if postgres_cluster.pg_bin() is None:
        pytest.skip("PostgreSQL server not installed here (apt-get install postgresql)")
    with postgres_cluster.cluster(["crm", "billing", "orders", "sessions", "unmigrated"]) as urls:
        for system in ("crm", "billing", "orders"):
            url = urls[system]
            source, target = make_engine(sqlite_url(data_dir, system)), make_engine(url)
            copy_system(source, target, system)
            source.dispose()
            target.dispose()
        yield urls


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis on loopback for the fan-out tests."""
    try:
        with postgres_cluster.redis_server() as url:
            yield url
    except FileNotFoundError as exc:
        pytest.skip(f"{exc} (apt-get install redis-server)")


@pytest.fixture(scope="session")
def postgres_sessions(postgres: dict[str, str]) -> str:
    """A sessions database on the PostgreSQL cluster, migrated as an operator would."""
    from copilot.sessions_db import upgrade

    upgrade(postgres["sessions"])
    return postgres["sessions"]


@pytest.fixture(params=["sqlite", "postgres"])
def sessions_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The sessions database: the embedded SQLite file, and PostgreSQL where it is installed."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    return str(request.getfixturevalue("postgres_sessions"))


@pytest.fixture(params=["sql", "postgres", "rest"])
async def systems(
    request: pytest.FixtureRequest, data_dir: Path, services: RunningServices
) -> AsyncIterator[Systems]:
    """The same three systems over each backend: the contract suite runs against all of them."""
    if request.param == "sql":
        yield sql_systems(data_dir)
        return
    if request.param == "postgres":
        urls = request.getfixturevalue("postgres")
        pg = sql_systems(
            crm_url=urls["crm"], billing_url=urls["billing"], orders_url=urls["orders"]
        )
        yield pg
        await pg.aclose()
        return
    from tools.rest import rest_systems

    rest = rest_systems(services.urls, token=SYSTEMS_TOKEN, timeout_s=5.0)
    yield rest
    await rest.aclose()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def models(
    embedder: Embedder,
) -> tuple[IntentPredictor | None, Callable[[], MoodFollower] | None]:
    """The shipped intent and mood models on the session's embedder."""
    intent, mood = optional_models(embedder)
    assert intent is not None and mood is not None, "the shipped models failed to load"
    return intent, mood


FullEngine = Callable[..., Engine]


def shipped_engine(
    url: str,
    systems: Systems,
    demo_kb: Path,
    embedder: Embedder,
    models: tuple[IntentPredictor | None, Callable[[], MoodFollower] | None],
    down: list[str] | None = None,
    **extra: Any,
) -> Engine:
    """An engine with every part the product ships: models, playbooks, offers and ledger.

    extra replaces or adds deps: the LLM path, the action ledger.
    """
    from copilot.runtime import build_engine
    from copilot.settings import load_settings
    from copilot.systems import with_outage
    from tools.kb.retriever import Retriever

    intent, mood = models
    parts: dict[str, Any] = {"enricher": None, "actions": None, "touchpoints": None}
    return build_engine(
        load_settings(llm_base_url=None),
        url,
        **{
            **parts,
            "systems": with_outage(systems, down or []),
            "retriever": Retriever(KnowledgeStore(connect(demo_kb)), embedder),
            "intent": intent,
            "mood": mood,
            "embedder": embedder,
            "today": lambda: TODAY,
            **extra,
        },
    )


@pytest.fixture
def full_engine(
    data_dir: Path,
    demo_kb: Path,
    embedder: Embedder,
    models: tuple[IntentPredictor | None, Callable[[], MoodFollower] | None],
) -> FullEngine:
    """`shipped_engine` over the test data's systems (or others given as systems=).

    Call it with the session database URL (engines sharing one URL see one log, as after a
    restart) and, optionally, the systems that are down.
    """

    def build(url: str, down: list[str] | None = None, **extra: Any) -> Engine:
        systems = extra.pop("systems", None) or sql_systems(data_dir)
        return shipped_engine(url, systems, demo_kb, embedder, models, down, **extra)

    return build


DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "tools" / "kb" / "articles" / "brightwave"


@pytest.fixture(scope="session")
def demo_kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The shipped Brightwave articles, ingested once per test run into an embedded Chroma
    folder; each xdist worker gets its own copy of it (embedding them is most of a minute)."""
    from tools.kb.ingest import ingest

    run = tmp_path_factory.getbasetemp()  # under xdist, one folder per worker in the run's
    shared = (run.parent if os.environ.get("PYTEST_XDIST_WORKER") else run) / "demo-kb-shared"
    with Path(f"{shared}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker ingests, the others wait for it
        if not (shared / "ingested").exists():
            shutil.rmtree(shared, ignore_errors=True)
            report = ingest(KnowledgeStore(connect(shared)), embedder, DEMO_ARTICLES)
            assert report.problems == [] and report.articles >= 40
            (shared / "ingested").touch()
    folder = tmp_path_factory.mktemp("demo-kb")
    shutil.copytree(shared, folder, dirs_exist_ok=True)
    return folder


def api_keys() -> Any:
    """API keys for server tests: one per role of tenant brightwave, one agent of another tenant."""
    from copilot.keys import KeySpec
    from server.auth import KeyRing

    specs = {
        f"test-{role}-key-0123456789": KeySpec(role=role, tenant="brightwave", name=f"{role} one")
        for role in ("agent", "bot", "supervisor", "qa", "admin")
    }
    specs["test-other-agent-key-0123"] = KeySpec(role="agent", tenant="acme", name="eve")
    return KeyRing(specs)


def bearer(role: str) -> dict[str, str]:
    key = "test-other-agent-key-0123" if role == "other" else f"test-{role}-key-0123456789"
    return {"Authorization": f"Bearer {key}"}


SCENARIOS = Path(__file__).resolve().parents[1] / "evals" / "scenarios"


def own_systems(data_dir: Path, folder: Path) -> Systems:
    """The demo systems over a private copy of data_dir: approving an action writes to them."""
    from copilot.settings import load_settings
    from copilot.systems import build_systems, private_copy

    copied = private_copy(load_settings(data_dir=data_dir), folder)
    assert copied is not None, f"no embedded demo data in {data_dir}"
    return build_systems(copied)


@dataclass
class Played:
    """One shipped scenario replayed through the shipped engine on its own copy of the data."""

    scenario: Any
    replay: Any
    engine: Engine
    logs: str


@pytest.fixture(scope="session")
def shipped_replays(
    data_dir: Path,
    demo_kb: Path,
    embedder: Embedder,
    models: tuple[IntentPredictor | None, Callable[[], MoodFollower] | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Played]:
    """Every shipped scenario played once per test run; several suites check the same replays
    (expectations, the card contract, PII everywhere), so the engine runs each only once."""
    import asyncio
    import io
    import logging

    from copilot import scenario as scenarios
    from copilot.actions import ActionLedger

    root = tmp_path_factory.mktemp("replays")
    out: dict[str, Played] = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        scenario = scenarios.load(path)
        own = root / path.stem
        url = f"sqlite:///{root / path.stem}.db"
        engine = shipped_engine(
            url,
            own_systems(data_dir, own),
            demo_kb,
            embedder,
            models,
            list(scenario.unavailable),
            actions=ActionLedger(url),
        )
        logs = io.StringIO()
        handler = logging.StreamHandler(logs)
        logging.getLogger().addHandler(handler)
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.DEBUG)
        try:
            replay = asyncio.run(scenarios.play(engine, scenario, scenario.name))
        finally:
            logging.getLogger().removeHandler(handler)
            logging.getLogger().setLevel(level)
        asyncio.run(engine.deps.systems.aclose())
        out[path.stem] = Played(scenario, replay, engine, logs.getvalue())
    return out


# Fixtures for tests whose actions write to the systems, embedded (SQL) or over REST.


@pytest.fixture
def data_copy(data_dir: Path, tmp_path: Path) -> Path:
    """The session's generated data is shared and read-only: actions write to a copy."""
    import shutil

    for system in ("crm", "billing", "orders"):
        shutil.copy(data_dir / f"{system}.db", tmp_path / f"{system}.db")
    return tmp_path


@pytest.fixture
def writable_services(data_copy: Path) -> Iterator[RunningServices]:
    with start_services(data_copy, token=SYSTEMS_TOKEN) as running:
        yield running


@pytest.fixture
async def rest(writable_services: RunningServices) -> AsyncIterator[Systems]:
    from copilot.settings import Settings
    from copilot.systems import build_systems

    urls = writable_services.urls
    settings = Settings(
        backend="rest",
        crm_api_url=urls["crm"],
        billing_api_url=urls["billing"],
        orders_api_url=urls["orders"],
        systems_token=SYSTEMS_TOKEN,
    )
    built = build_systems(settings)
    yield built
    await built.aclose()
