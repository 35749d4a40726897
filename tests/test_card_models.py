"""The panel's contract: every card the engine emits in every shipped scenario fits its model."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from pydantic import ValidationError

from copilot import card_models as cm
from copilot import scenario as scenarios
from copilot.actions import ActionLedger, Proposal
from copilot.engine import Engine
from copilot.events import Event
from copilot.panel import Card, PanelUpdate
from copilot.runtime import llm_enricher
from copilot.schemas import schemas
from copilot.settings import load_settings
from copilot.systems import build_systems, private_copy
from copilot.testing import model_like
from copilot.testing.fake_openai import FakeOpenAI
from tests.conftest import FullEngine, Played, bearer
from tests.server.conftest import serving_shipped
from tools.actions import WaiveLateFee

FOLDER = Path(__file__).resolve().parents[1] / "evals" / "scenarios"
FILES = sorted(FOLDER.glob("*.yaml"))
Validator = jsonschema.Draft202012Validator
UPDATE_SCHEMA = Validator(schemas()["panel-update.json"], format_checker=Validator.FORMAT_CHECKER)
CARD_SCHEMA = Validator(schemas()["card.json"], format_checker=Validator.FORMAT_CHECKER)
# Every shape of card data the scenarios must show at least once, so the check covers them.
SHAPES = {
    "offline": {
        cm.CustomerData,
        cm.CustomerPendingData,
        cm.CustomerUnknownData,
        cm.JourneyData,
        cm.SummaryData,
        cm.MoodData,
        cm.NoMoodData,
        cm.IntentData,
        cm.NextBestActionData,
        cm.OfferData,
        cm.KnowledgeData,
        cm.AlertData,
        cm.ActionData,
        cm.Cleared,
    },
}
SHAPES["llm"] = SHAPES["offline"] | {cm.ReplyDraftData}


class Contract:
    """Checks updates against the models and the JSON Schema; notes the data shapes it saw."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.shapes: set[type] = set()
        self.actions: set[str] = set()  # the statuses action cards went through

    def check(self, where: str, update: PanelUpdate) -> None:
        body = update.model_dump(mode="json")
        for error in UPDATE_SCHEMA.iter_errors(body):
            path = ".".join(map(str, error.path))
            self.problems.append(f"{where} v{update.version}: {path}: {error.message}")
        for card in update.cards:
            try:
                data = cm.parse(card).data
            except ValidationError as exc:
                self.problems.append(f"{where}: {card.id} v{card.version}: {exc}")
                continue
            self.shapes.add(type(data))
            if isinstance(data, cm.ActionData):
                self.actions.add(data.status)

    def replay(self, engine: Engine, scenario: scenarios.Scenario) -> None:
        played = asyncio.run(scenarios.play(engine, scenario, scenario.name))
        for update in played.updates:
            self.check(scenario.name, update)


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=model_like.respond) as fake:
        yield fake


def replay_all(full_engine: FullEngine, data_dir: Path, root: Path, **llm: Any) -> Contract:
    """Every shipped scenario on the shipped engine (with the model when llm settings are given)."""
    contract = Contract()
    for path in FILES:
        scenario = scenarios.load(path)
        # Approvals write to the systems: each scenario gets its own copy of them.
        given = load_settings(data_dir=data_dir, **({"llm_base_url": None} | llm))
        settings = private_copy(given, root / path.stem)
        assert settings is not None
        db = f"sqlite:///{root / path.stem}.db"
        engine = full_engine(
            db,
            list(scenario.unavailable),
            systems=build_systems(settings),
            enricher=llm_enricher(settings, db),
            actions=ActionLedger(db),
        )
        contract.replay(engine, scenario)
        asyncio.run(engine.deps.systems.aclose())
        shutil.rmtree(root / path.stem)
    return contract


def test_every_offline_card_of_every_scenario_fits_the_contract(
    shipped_replays: dict[str, Played],
) -> None:
    contract = Contract()
    for name, played in shipped_replays.items():
        for update in played.replay.updates:
            contract.check(name, update)
    assert contract.problems == []
    assert SHAPES["offline"] <= contract.shapes, SHAPES["offline"] - contract.shapes
    assert {"proposed", "done"} <= contract.actions


def test_every_card_with_the_model_fits_the_contract(
    full_engine: FullEngine, data_dir: Path, tmp_path: Path, model: FakeOpenAI
) -> None:
    contract = replay_all(
        full_engine,
        data_dir,
        tmp_path,
        llm_base_url=model.url,
        llm_model="fake-model",
        llm_max_retries=0,
        llm_coalesce_ms=0,
    )
    assert contract.problems == []
    assert SHAPES["llm"] <= contract.shapes, SHAPES["llm"] - contract.shapes


def action_card() -> Card:
    request = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    return Proposal("act-1", "s1", "CUS-9000001", request, "playbook", "step waive-fee").card()


def test_a_card_with_an_unknown_field_or_a_wrong_type_is_refused() -> None:
    good = action_card()
    assert isinstance(cm.parse(good), cm.ActionCard)
    CARD_SCHEMA.validate(good.model_dump(mode="json"))
    bad = {
        "unknown field": {**good.data, "colour": "red"},
        "unknown nested field": {**good.data, "request": {**good.data["request"], "x": 1}},
        "wrong type": {**good.data, "needs_approval": [True]},
        "wrong literal": {**good.data, "status": "maybe"},
        "missing field": {k: v for k, v in good.data.items() if k != "why"},
        "cleared with more": {"cleared": True, "why": "gone"},
    }
    for why, data in bad.items():
        card = good.model_copy(update={"data": data})
        with pytest.raises(ValidationError):
            cm.parse(card)
        assert list(CARD_SCHEMA.iter_errors(card.model_dump(mode="json"))), why
    numbered = good.model_dump(mode="json") | {"version": "2"}
    with pytest.raises(ValidationError):
        cm.CARD.validate_json(json.dumps(numbered), strict=True)
    assert list(CARD_SCHEMA.iter_errors(numbered))
    # The data of one card type is not accepted under another.
    with pytest.raises(ValidationError):
        cm.parse(good.model_copy(update={"type": "offer"}))


def test_typed_readers_see_cleared_and_other_shapes_as_none() -> None:
    cleared = Card(type="alert", id="alert:repeat", status="empty", data={"cleared": True})
    assert isinstance(cm.parse(cleared).data, cm.Cleared)
    assert cm.data_of(cleared, cm.AlertData) is None
    assert cm.data_of(None, cm.AlertData) is None
    proposal = cm.data_of(action_card(), cm.ActionData)
    assert proposal is not None and proposal.request.kind == "waive_late_fee"
    assert cm.data_of(action_card(), cm.AlertData) is None


def test_the_typed_update_has_the_envelope_of_the_panel_update() -> None:
    assert set(cm.TypedPanelUpdate.model_fields) == set(PanelUpdate.model_fields)
    update = PanelUpdate(
        session_id="s", version=1, event_id="e1", cards=[action_card()], latency_ms=1
    )
    typed = cm.parse_update(update)
    assert isinstance(typed.cards[0], cm.ActionCard) and typed.version == 1


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving_shipped(request, "card-models", ledger=True) as url:
        yield url


def test_the_card_schemas_are_published_and_the_served_panel_meets_them(served: str) -> None:
    listed = httpx.get(f"{served}/schemas").json()
    assert {"card.json", "event.json", "panel-update.json", "handoff-packet.json"} <= set(listed)
    published: dict[str, Any] = {}
    for name in ("card.json", "panel-update.json", "event.json"):
        r = httpx.get(f"{served}/schemas/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        published[name] = r.json()
        Validator.check_schema(published[name])
    assert published["card.json"] == schemas()["card.json"]
    with httpx.Client(base_url=served, headers=bearer("agent"), timeout=60) as agent:
        sid = agent.post("/v1/sessions", json={"channel": "chat"}).json()["session_id"]
        said = {
            "event_id": "c1",
            "type": "utterance",
            "text": "Hi, my number is (415) 555-0101 and my bill says past due. I'm on autopay!",
        }
        Validator(published["event.json"]).validate(
            {**said, "session_id": sid, "ts": "2026-11-24T09:00:00Z"}
        )
        assert agent.post(f"/v1/sessions/{sid}/events", json=said).status_code == 202
        panel = agent.get(f"/v1/sessions/{sid}/panel").json()["cards"]
    assert {c["type"] for c in panel} >= {"customer", "summary", "next_best_action"}
    for card in panel:
        Validator(published["card.json"]).validate(card)
        cm.CARD.validate_python(card)
    with pytest.raises(jsonschema.ValidationError):
        Validator(published["card.json"]).validate({**panel[0], "type": "weather"})


def test_an_event_schema_refuses_what_the_event_model_refuses() -> None:
    schema = Validator(schemas()["event.json"])
    ok = {"event_id": "e1", "session_id": "s1", "type": "utterance", "ts": "2026-11-24T09:00:00Z"}
    Event.model_validate(ok)
    schema.validate(ok)
    for bad in ({**ok, "speaker": "robot"}, {**ok, "surprise": 1}, {**ok, "event_id": "-x"}):
        with pytest.raises(ValidationError):
            Event.model_validate(bad)
        assert list(schema.iter_errors(bad))
