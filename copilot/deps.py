"""What the engine and its stages use, passed in: the composition root builds it once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from copilot.batching import EmbedBatcher
from copilot.enricher import EnricherFactory
from copilot.lease import Lease, LocalLease
from copilot.offers import Catalogue
from copilot.pii import RedactionPolicy
from copilot.playbooks import PlaybookSet
from copilot.session_state import IntentPredictor, MoodFollower, SessionState
from copilot.store import EventLog, OfferLog, ProposalLog, TouchpointStore
from copilot.systems import with_outage
from copilot.tenants import Policies, TenantPolicy
from tools.base import Systems
from tools.errors import CopilotError
from tools.kb.embeddings import Embedder
from tools.kb.retriever import Retriever


@dataclass
class EngineDeps:
    """Everything the engine uses; tests, the server, the CLI and evals get theirs from compose."""

    systems: Systems
    store: EventLog
    retriever: Retriever | None = None
    intent: IntentPredictor | None = None
    mood: Callable[[], MoodFollower] | None = None
    embedder: Embedder | None = None
    playbooks: PlaybookSet | None = None
    offers: Catalogue | None = None
    ledger: OfferLog | None = None
    policy: RedactionPolicy = field(default_factory=RedactionPolicy)
    today: Callable[[], date] = date.today
    tool_timeout_s: float = 2.0
    enricher: EnricherFactory | None = None  # the slow path; None: the offline engine alone
    actions: ProposalLog | None = None  # where proposals and approvals are recorded
    touchpoints: TouchpointStore | None = None  # this customer's other contacts, across channels
    policies: Policies = field(default_factory=lambda: Policies(TenantPolicy(), {}))
    tenant_of: Callable[[str], str | None] | None = None  # a session's tenant, for its policy
    lease: Lease = field(default_factory=LocalLease)  # who applies a session's changes now
    batcher: EmbedBatcher | None = field(init=False, default=None)
    # A drilling session's systems: (what is down, the systems it was built over, the result).
    drills: dict[str, tuple[frozenset[str], Systems, Systems]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # Utterances of concurrent sessions share one forward pass.
        self.batcher = EmbedBatcher(self.embedder) if self.embedder is not None else None

    def systems_for(self, state: SessionState) -> Systems:
        """The systems as this session sees them: those its drill names down do not answer."""
        down = state.drill
        if not down:
            return self.systems
        kept = self.drills.get(state.session_id)
        if kept is None or kept[0] != down or kept[1] is not self.systems:
            kept = (down, self.systems, with_outage(self.systems, sorted(down)))
            self.drills[state.session_id] = kept
        return kept[2]

    def warm_up(self) -> None:
        """Load what the first event would otherwise wait for: models, lexical index."""
        text = "Hello, my bill looks wrong this month."
        vector = None
        if self.embedder is not None:
            vector = np.asarray(self.embedder.embed([text])[0])
        if self.intent is not None:
            self.intent.predict([text], vectors=None if vector is None else [vector])
        if self.mood is not None:
            self.mood().update("warm-up", text, vector=vector)
        if self.retriever is not None:
            with contextlib.suppress(CopilotError):
                self.retriever.search(text, 1)
