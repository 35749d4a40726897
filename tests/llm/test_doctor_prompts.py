"""`copilot doctor` against a live and a dead endpoint; prompts render strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import prompts
from copilot.testing.fake_openai import FakeOpenAI, Reply
from server.cli import app

runner = CliRunner()


@pytest.fixture
def base(data_dir: Path, demo_kb: Path) -> dict[str, str]:
    """Systems data and a knowledge base that exist, so only the LLM check decides."""
    return {"COPILOT_DATA_DIR": str(data_dir), "COPILOT_KB_DIR": str(demo_kb)}


def doctor(env: dict[str, str]) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["doctor", "--json"], env=env)
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def test_doctor_reports_a_configured_endpoint_that_answers(base: dict[str, str]) -> None:
    with FakeOpenAI([Reply(text="ok")]) as fake:
        code, checks = doctor(
            {
                **base,
                "COPILOT_LLM_BASE_URL": fake.url,
                "COPILOT_LLM_MODEL": "fake-model",
                "COPILOT_LLM_API_KEY": "sk-test",
            }
        )
        fake.assert_done()
    llm = next(c for c in checks if c["check"] == "llm")
    assert code == 0
    assert llm["ok"] is True and "answers as 'fake-model'" in str(llm["detail"])
    assert "with a key" in str(llm["detail"]) and "sk-test" not in json.dumps(checks)
    assert fake.requests[0]["max_tokens"] == 1


def test_doctor_fails_on_an_endpoint_that_is_down(base: dict[str, str]) -> None:
    code, checks = doctor({**base, "COPILOT_LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    llm = next(c for c in checks if c["check"] == "llm")
    assert code == 1 and llm["ok"] is False and "does not answer" in str(llm["detail"])


def test_doctor_fails_on_an_endpoint_that_errors(base: dict[str, str]) -> None:
    with FakeOpenAI([Reply(status=500)]) as fake:
        code, checks = doctor({**base, "COPILOT_LLM_BASE_URL": fake.url})
    llm = next(c for c in checks if c["check"] == "llm")
    assert code == 1 and "HTTP 500" in str(llm["detail"])


def test_doctor_without_a_model_says_the_offline_engine_runs(base: dict[str, str]) -> None:
    code, checks = doctor({**base, "COPILOT_LLM_BASE_URL": ""})
    llm = next(c for c in checks if c["check"] == "llm")
    assert code == 0 and "offline engine" in str(llm["detail"])
    assert all(c["ok"] for c in checks)


def test_doctor_names_what_is_missing(tmp_path: Path) -> None:
    code, checks = doctor(
        {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_KB_DIR": str(tmp_path / "kb")}
    )
    failed = {c["check"]: str(c["detail"]) for c in checks if not c["ok"]}
    assert code == 1
    assert "copilot data generate" in failed["systems"]
    assert "copilot kb ingest" in failed["knowledge"]


def test_prompts_are_versioned_and_render_strictly() -> None:
    rendered = prompts.render("repair", tool="write_cards", problem="summary: Field required")
    assert rendered.ref == "repair.v1" and "summary: Field required" in rendered.text
    with pytest.raises(prompts.PromptError, match="'problem' is undefined"):
        prompts.render("repair", tool="write_cards")
    with pytest.raises(prompts.PromptError, match="no prompt named"):
        prompts.render("nope")
    with pytest.raises(prompts.PromptError, match="no version 9"):
        prompts.render("turn", version=9)
