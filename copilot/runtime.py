"""Build a ready engine from settings: systems, knowledge base, models, session log."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from pathlib import Path

from copilot.actions import ActionLedger
from copilot.continuity import Policies, TouchpointLog
from copilot.engine import Engine, EngineDeps
from copilot.knowledge import build_retriever
from copilot.llm.ledger import CallLedger
from copilot.llm.orchestrator import Orchestrator
from copilot.llm.provider import LlmConfig, chat_model
from copilot.offers import Catalogue, OfferLedger
from copilot.offers import load_default as load_offers
from copilot.playbooks import PlaybookSet
from copilot.playbooks import load_default as load_playbooks
from copilot.sessions import SessionStore
from copilot.settings import Settings
from copilot.state import IntentPredictor, MoodFollower
from copilot.systems import build_systems
from tools.kb.embeddings import Embedder


def optional_models(
    embedder: Embedder | None = None, intent_model: Path | None = None
) -> tuple[IntentPredictor | None, Callable[[], MoodFollower] | None]:
    """The intent and mood models, where present; the engine runs without them.

    intent_model names a tenant's own model folder: unlike the shipped one, it must load.
    """
    intent: IntentPredictor | None = None
    mood: Callable[[], MoodFollower] | None = None
    if intent_model is not None:
        from copilot.intent import IntentModel

        intent = IntentModel.load(intent_model, embedder)
    with contextlib.suppress(ImportError, AttributeError, OSError):
        intent = intent or importlib.import_module("copilot.intent").load_default(embedder)
    with contextlib.suppress(ImportError, AttributeError, OSError):
        mood_module = importlib.import_module("copilot.mood")
        model = mood_module.load_default(embedder)
        mood = lambda: mood_module.MoodTracker(model)  # noqa: E731
    return intent, mood


def build_engine(settings: Settings, sessions_url: str | None = None) -> Engine:
    embedder = Embedder(settings.embedding_model)
    intent, mood = optional_models(embedder, settings.intent_model)
    url = sessions_url or f"sqlite:///{Path(settings.data_dir).parent / 'sessions.db'}"
    playbooks = PlaybookSet.load(settings.playbooks) if settings.playbooks else load_playbooks()
    return Engine(
        EngineDeps(
            systems=build_systems(settings),
            retriever=build_retriever(settings, embedder),
            store=SessionStore(url),
            intent=intent,
            mood=mood,
            embedder=embedder,
            playbooks=playbooks,
            offers=Catalogue.load(settings.offers) if settings.offers else load_offers(),
            ledger=OfferLedger(url),
            tool_timeout_s=settings.tool_timeout_s,
            llm=build_orchestrator(settings, url),
            actions=ActionLedger(url),
            touchpoints=TouchpointLog(url),
            policies=Policies.from_settings(settings),
        )
    )


def build_orchestrator(settings: Settings, ledger_url: str) -> Orchestrator | None:
    """The LLM path when COPILOT_LLM_BASE_URL is set; None leaves the offline engine alone."""
    config = LlmConfig.from_settings(settings)
    if config is None:
        return None
    return Orchestrator(chat_model(config), config, CallLedger(ledger_url))
