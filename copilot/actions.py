"""Write actions the copilot proposes and an agent approves: proposals, decisions, outcomes.

Nothing writes to a system until a named agent approves; every decision is on record with who
made it and when, next to the session log.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Column, DateTime, Engine, Index, MetaData, String, Table, Text, select

from copilot.panel import Card, Provenance
from copilot.storage import open_database
from tools.actions import ActionRequest, TakePayment, UpdateAutopay, WaiveLateFee, target_of
from tools.errors import InvalidInput
from tools.view import Customer360

ActionStatus = Literal["proposed", "approved", "rejected", "done", "failed"]
# Playbook `uses` -> write action kind, for the steps whose target the view pins down.
USES_TO_KIND = {
    "billing.update_autopay": "update_autopay",
    "billing.take_payment": "take_payment",
    "billing.credit_late_fee": "waive_late_fee",
    "billing.change_plan": "change_plan",
    "orders.start_return": "start_return",
    "orders.start_exchange": "start_exchange",
}
REQUEST: TypeAdapter[ActionRequest] = TypeAdapter(ActionRequest)
metadata = MetaData()
actions = Table(
    "actions",
    metadata,
    Column("action_id", String(64), primary_key=True),
    Column("session_id", String(128), nullable=False),
    Column("customer_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("request", Text, nullable=False),
    Column("proposed_by", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", DateTime),
    Column("result", Text),
    Column("proposed_at", DateTime, nullable=False),
    Index("ix_actions_session", "session_id"),
)


def inputs_of(kind: str) -> frozenset[str]:
    """The arguments a kind of request takes, its kind aside."""
    for model in get_args(get_args(ActionRequest)[0]):
        if kind in get_args(model.model_fields["kind"].annotation):
            return frozenset(model.model_fields) - {"kind"}
    return frozenset()


def request_of(kind: str, arguments: dict[str, Any]) -> ActionRequest:
    """A typed request from a kind and loose arguments; InvalidInput naming the field otherwise."""
    try:
        return REQUEST.validate_python({**arguments, "kind": kind})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"][1:]) or "arguments"
        raise InvalidInput(field, f"{kind}: {err['msg']}") from None


@dataclass
class Proposal:
    action_id: str
    session_id: str
    customer_id: str
    request: ActionRequest
    proposed_by: str
    why: str
    status: ActionStatus = "proposed"
    decided_by: str | None = None
    decided_at: datetime | None = None
    result: str | None = None
    # The system's own preview, computed when proposed (and again after a restart).
    preview_message: str | None = None
    changes: dict[str, str] | None = None
    blocked: str | None = None  # why the system would refuse it now; approval is withheld

    @property
    def kind(self) -> str:
        return self.request.kind

    def card(self) -> Card:
        return Card(
            type="action",
            id=f"action:{self.action_id}",
            status="ok" if self.status != "failed" else "degraded",
            data={
                "action_id": self.action_id,
                "kind": self.kind,
                "target": target_of(self.request),
                "request": self.request.model_dump(mode="json"),
                "why": self.why,
                "proposed_by": self.proposed_by,
                "status": self.status,
                "needs_approval": self.status == "proposed" and self.blocked is None,
                "preview": self.preview_message,
                "changes": self.changes or {},
                "blocked": self.blocked,
                "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "result": self.result,
            },
            provenance=Provenance(),
        )


def action_id(session_id: str, request: ActionRequest) -> str:
    """The same proposal in the same session always gets the same id: proposing is idempotent."""
    body = json.dumps([session_id, request.model_dump(mode="json")], sort_keys=True)
    return "act-" + hashlib.sha256(body.encode()).hexdigest()[:16]


class ActionLedger:
    """Proposals and decisions in SQLite (or any SQLAlchemy URL), beside the session log."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def propose(self, proposal: Proposal) -> bool:
        """Store a proposal; False when the same one is already on record."""
        with self._lock, self.engine.begin() as conn:
            if conn.execute(
                select(actions.c.action_id).where(actions.c.action_id == proposal.action_id)
            ).first():
                return False
            conn.execute(
                actions.insert().values(
                    action_id=proposal.action_id,
                    session_id=proposal.session_id,
                    customer_id=proposal.customer_id,
                    kind=proposal.kind,
                    request=proposal.request.model_dump_json(),
                    proposed_by=proposal.proposed_by,
                    why=proposal.why,
                    status="proposed",
                    proposed_at=_now(),
                )
            )
        return True

    def decide(
        self, action: str, status: ActionStatus, by: str | None, result: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status, "result": result}
        if by is not None:
            values.update(decided_by=by, decided_at=_now())
        with self._lock, self.engine.begin() as conn:
            conn.execute(actions.update().where(actions.c.action_id == action).values(**values))

    def session(self, session_id: str) -> list[Proposal]:
        query = select(actions).where(actions.c.session_id == session_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(actions.c.proposed_at)).all()
        return [
            Proposal(
                action_id=r.action_id,
                session_id=r.session_id,
                customer_id=r.customer_id,
                request=REQUEST.validate_json(r.request),
                proposed_by=r.proposed_by,
                why=r.why,
                status=r.status,
                decided_by=r.decided_by,
                decided_at=r.decided_at.replace(tzinfo=UTC) if r.decided_at else None,
                result=r.result,
            )
            for r in rows
        ]

    def close(self) -> None:
        self.engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# What a write action needs besides its target, and where the agent gets it.
INPUTS = {"update_autopay": "the new payment method, from the secure payment form"}


def missing_inputs(uses: str | None, payment_method: str | None) -> list[str]:
    """The inputs a step's action still waits for; it is proposed only once there are none."""
    kind = USES_TO_KIND.get(uses or "")
    if kind == "update_autopay" and payment_method is None:
        return [INPUTS[kind]]
    return []


# The kinds offline_request aims from the view alone: when it gives none, the facts do not call
# for one (nothing past due) or an input is missing, and a model's proposal would be refused.
PREPARED_KINDS = frozenset({"update_autopay", "take_payment", "waive_late_fee"})


def offline_request(
    uses: str | None, view: Customer360, payment_method: str | None = None
) -> ActionRequest | None:
    """The write action a playbook step uses, aimed at the account the view says it is about."""
    kind = USES_TO_KIND.get(uses or "")
    if kind is None or missing_inputs(uses, payment_method):
        return None
    for summary in view.billing.data or []:
        number = summary.account.account_number
        due = summary.past_due
        if kind == "update_autopay" and summary.autopay.status == "failed" and payment_method:
            return UpdateAutopay(
                kind="update_autopay", account_number=number, payment_method=payment_method
            )
        if kind == "take_payment" and due is not None:
            return TakePayment(kind="take_payment", account_number=number)
        if kind == "waive_late_fee" and due is not None and due.late_fees > 0:
            return WaiveLateFee(kind="waive_late_fee", account_number=number)
    return None
