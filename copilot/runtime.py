"""The composition root: every engine (server, CLI, evals, tests) is built here, once.

A caller may hand in any of the engine's parts (its own systems, a retriever over a test
knowledge base, a fixed clock, no touchpoints); every part it does not give is built from the
settings. Nothing is rewired after construction.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.actions import ActionLedger
from copilot.deps import EngineDeps
from copilot.engine import Engine
from copilot.enricher import EnricherFactory, Host
from copilot.event_log import SessionStore
from copilot.knowledge import build_retriever
from copilot.offers import Catalogue, OfferLedger
from copilot.offers import load_default as load_offers
from copilot.playbooks import PlaybookSet
from copilot.playbooks import load_default as load_playbooks
from copilot.session_state import IntentPredictor, MoodFollower
from copilot.settings import Settings
from copilot.systems import build_systems
from copilot.tenants import Policies
from copilot.touchpoints import TouchpointLog
from tools.errors import ConfigurationError
from tools.kb.embeddings import Embedder

if TYPE_CHECKING:
    from copilot.mood import MoodHead

_UNSET: Any = object()


def optional_models(
    embedder: Embedder | None = None,
    intent_model: Path | None = None,
    mood_model: Path | None = None,
) -> tuple[IntentPredictor | None, Callable[[], MoodFollower] | None]:
    """The intent and mood models, where present; the engine runs without them.

    intent_model and mood_model name a tenant's own model folders: unlike the shipped ones,
    they must load (ConfigurationError says why not).
    """
    intent: IntentPredictor | None = None
    mood: Callable[[], MoodFollower] | None = None
    if intent_model is not None:
        from copilot.intent import IntentModel

        intent = IntentModel.load(intent_model, embedder)
    with contextlib.suppress(ImportError, AttributeError, OSError):
        intent = intent or importlib.import_module("copilot.intent").load_default(embedder)
    if mood_model is not None:
        from copilot.mood import MoodModel, MoodTracker

        own = MoodModel(_own_mood_head(mood_model), embedder)
        return intent, lambda: MoodTracker(own)
    with contextlib.suppress(ImportError, AttributeError, OSError):
        mood_module = importlib.import_module("copilot.mood")
        model = mood_module.load_default(embedder)
        mood = lambda: mood_module.MoodTracker(model)  # noqa: E731
    return intent, mood


def check_own_models(settings: Settings) -> None:
    """The tenant's own model folders load (ConfigurationError names the setting and the file):
    checked before serving, so a bad one is one line, not a traceback once the server is up."""
    if settings.intent_model is not None:
        from copilot.intent import IntentModel

        try:
            IntentModel.load(settings.intent_model)
        except ConfigurationError as exc:
            raise ConfigurationError(f"COPILOT_INTENT_MODEL: {exc.message}") from None
    if settings.mood_model is not None:
        _own_mood_head(settings.mood_model)


def _own_mood_head(folder: Path) -> MoodHead:
    """A tenant's mood model folder, or ConfigurationError naming the setting and the file."""
    from copilot.mood import MoodHead, MoodModelError

    try:
        return MoodHead.load(folder)
    except MoodModelError as exc:
        raise ConfigurationError(f"COPILOT_MOOD_MODEL: {exc}") from None


def build_engine(settings: Settings, sessions_url: str | None = None, **given: Any) -> Engine:
    """An engine from settings; `given` supplies any EngineDeps field instead (None included)."""
    url = sessions_url or settings.sessions_database()

    def part(name: str, make: Callable[[], Any]) -> Any:
        value = given.pop(name, _UNSET)
        return make() if value is _UNSET else value

    embedder = part("embedder", lambda: Embedder(settings.embedding_model))
    if "intent" in given or "mood" in given:
        models = (given.pop("intent", None), given.pop("mood", None))
    else:
        models = optional_models(embedder, settings.intent_model, settings.mood_model)
    deps = EngineDeps(
        systems=part("systems", lambda: build_systems(settings)),
        retriever=part("retriever", lambda: build_retriever(settings, embedder)),
        store=part("store", lambda: SessionStore(url)),
        intent=models[0],
        mood=models[1],
        embedder=embedder,
        playbooks=part(
            "playbooks",
            lambda: (
                PlaybookSet.load(settings.playbooks) if settings.playbooks else load_playbooks()
            ),
        ),
        offers=part(
            "offers", lambda: Catalogue.load(settings.offers) if settings.offers else load_offers()
        ),
        ledger=part("ledger", lambda: OfferLedger(url)),
        tool_timeout_s=settings.tool_timeout_s,
        enricher=part("enricher", lambda: llm_enricher(settings, url)),
        actions=part("actions", lambda: ActionLedger(url)),
        touchpoints=part("touchpoints", lambda: TouchpointLog(url)),
        policies=part("policies", lambda: Policies.from_settings(settings)),
        **given,
    )
    return Engine(deps)


def llm_enricher(settings: Settings, ledger_url: str) -> EnricherFactory | None:
    """The LLM path when COPILOT_LLM_BASE_URL is set; None leaves the offline engine alone."""
    from copilot.llm.assist import LlmEnricher
    from copilot.llm.ledger import CallLedger
    from copilot.llm.orchestrator import Orchestrator
    from copilot.llm.provider import LlmConfig, chat_model

    config = LlmConfig.from_settings(settings)
    if config is None:
        return None
    orchestrator = Orchestrator(chat_model(config), config, CallLedger(ledger_url))

    def make(host: Host) -> LlmEnricher:
        return LlmEnricher(host, orchestrator)

    return make
