"""ABCD as playbooks: the converter, the sample conversations, the next-action benchmark."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.playbooks import PlaybookSet, track
from evals import abcd
from evals.bench import nba
from evals.cli import bench_app
from tools.errors import InvalidInput
from tools.kb.embeddings import Embedder

pytestmark = pytest.mark.skipif(
    not (abcd.ROOT / "kb.json").is_file(), reason=f"ABCD not under {abcd.ROOT}"
)


def _json(name: str) -> Any:
    return json.loads((abcd.ROOT / name).read_text())


@pytest.fixture(scope="module")
def result(embedder: Embedder) -> dict[str, Any]:
    return nba.run(abcd.ROOT, embedder)


def test_one_valid_playbook_per_subflow_in_kb_order() -> None:
    kb = _json("kb.json")
    playbooks = abcd.load_playbooks()
    assert playbooks.name == "abcd" and "MIT" in playbooks.source
    assert len(playbooks.playbooks) == 55 == len(kb)
    PlaybookSet.model_validate(playbooks.model_dump())  # valid as data, not only as built
    for intent, actions in kb.items():
        book = playbooks.for_intent(intent)
        assert book is not None
        assert [s.uses for s in book.steps] == actions
        assert all(s.done_when[0].action == s.uses for s in book.steps)
        assert [s.requires for s in book.steps] == [[], *[[s.id] for s in book.steps[:-1]]]
    refund = playbooks.for_intent("refund_initiate")
    assert refund is not None and refund.title == "Initiate Refund"
    assert refund.steps[0].title == "Pull up Account" and "full name" in refund.steps[0].say
    size = playbooks.for_intent("return_size")
    assert size is not None and size.steps[2].title == "Membership Privileges"
    status = playbooks.for_intent("refund_status")
    assert status is not None and status.steps[-1].say == ""  # no button in the guidelines


def test_a_repeated_action_gets_a_suffixed_step_id() -> None:
    sub = abcd.subflows()[0]
    twice = abcd.Subflow(**{**sub.__dict__, "actions": (*sub.actions, sub.actions[0])})
    ids = [s.id for s in abcd.playbook(twice).steps]
    assert ids == [*sub.actions, f"{sub.actions[0]}-2"]


def test_samples_deduplicated_with_actions_aligned() -> None:
    convos = {c.convo_id: c for c in abcd.conversations()}
    assert sorted(convos) == [3592, 3647, 3695, 5798, 9489]
    assert convos[3695].subflow == "timing"  # the scenario says timing_4: subflow plus question
    turn = convos[3592].turns[6]
    assert (turn.speaker, turn.action, turn.slots) == (
        "action",
        "pull-up-account",
        ("crystal minh",),
    )
    assert turn.text.startswith("Account has been pulled up")
    assert all((t.speaker == "action") == (t.action is not None) for t in turns_of(convos))


def turns_of(convos: dict[int, abcd.AbcdConversation]) -> list[abcd.Turn]:
    return [t for c in convos.values() for t in c.turns]


@pytest.mark.parametrize(
    ("convo_id", "before", "expected"),
    [
        (3592, 6, "pull-up-account"),  # nothing done yet
        (3592, 12, "validate-purchase"),
        (3592, 22, "membership"),  # the agent skipped it and escalated instead
        (5798, 14, "validate-purchase"),  # manage: shipping status comes before validation
        (3647, 14, "select-faq"),
    ],
)
def test_track_on_a_real_conversation(convo_id: int, before: int, expected: str) -> None:
    convo = next(c for c in abcd.conversations() if c.convo_id == convo_id)
    book = abcd.load_playbooks().for_intent(convo.subflow)
    assert book is not None
    progress = track(book, nba.facts_before(convo.turns, before))
    assert progress.next is not None and progress.next.uses == expected
    assert progress.next.title in progress.reason or book.title in progress.reason


def test_benchmark_oracle_beats_the_kb_baselines(result: dict[str, Any]) -> None:
    convos = abcd.conversations()
    playbooks = abcd.load_playbooks()
    hits = []
    for convo in convos:
        book = playbooks.for_intent(convo.subflow)
        assert book is not None
        for i, turn in enumerate(convo.turns):
            if turn.action is not None:
                step = track(book, nba.facts_before(convo.turns, i)).next
                hits.append(step is not None and step.uses == turn.action)
    acc = result["accuracy"]
    assert result["action_turns"] == len(hits) and result["conversations"] == len(convos)
    assert acc["gold"] == pytest.approx(sum(hits) / len(hits))
    assert 0.5 <= acc["gold"] <= 1.0
    assert acc["gold"] >= acc["bigram"] >= acc["majority"]
    assert acc["gold"] >= acc["trail"] >= acc["predicted"] > acc["majority"]
    assert result["majority_action"] == "pull-up-account"
    figures = nba.figures(result)
    assert figures[0].value == pytest.approx(100 * acc["gold"])
    assert figures[0].baseline == pytest.approx(100 * acc["bigram"])
    text = "\n".join(nba.notes(result))
    assert "notify-team ['manager']" in text  # the escalation is outside the kb sequence


def test_bigram_baseline_reads_kb_only() -> None:
    majority, after = nba.kb_baselines(abcd.subflows())
    assert majority == "pull-up-account"
    assert after[nba.START] == "pull-up-account"
    assert after["search-faq"].startswith("search-")


def _broken(tmp_path: Path, name: str, edit: Any) -> Path:
    root = tmp_path / "abcd"
    shutil.copytree(abcd.ROOT, root)
    (root / name).chmod(0o644)
    data = json.loads((root / name).read_text())
    edit(data)
    (root / name).write_text(json.dumps(data))
    return root


@pytest.mark.parametrize(
    ("name", "edit", "named"),
    [
        ("kb.json", lambda d: d.update(bogus_subflow=["pull-up-account"]), "'bogus_subflow'"),
        ("kb.json", lambda d: d.pop("return_color"), "'return_color' has no sequence"),
        ("kb.json", lambda d: d["refund_update"].append("teleport"), "'refund_update'"),
        (
            "guidelines.json",
            lambda d: d["Product Defect"]["subflows"].pop("Update Refund"),
            "'refund_update' (flow 'product_defect') has no entry",
        ),
        (
            "guidelines.json",
            lambda d: d["Manage Account"].update(
                subflows=dict(reversed(d["Manage Account"]["subflows"].items()))
            ),
            "'status_service_added'",
        ),
    ],
)
def test_broken_data_names_the_subflow(tmp_path: Path, name: str, edit: Any, named: str) -> None:
    root = _broken(tmp_path, name, edit)
    with pytest.raises(InvalidInput, match=re.escape(named)):
        abcd.load_playbooks(root)


def test_missing_files_say_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="put the ABCD files"):
        abcd.load_playbooks(tmp_path)


def test_bench_nba_command(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    monkeypatch.setattr(nba, "Embedder", lambda: embedder)
    out = CliRunner().invoke(bench_app, ["nba"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "next, gold subflow" in out.output and "kb.json bigram" in out.output
    assert "gold action turns" in out.output
