"""`copilot doctor` against a live and a dead endpoint; prompts render strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import prompts
from copilot.testing import model_like
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
    with FakeOpenAI(responder=model_like.respond) as fake:
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
    found = {
        str(c["check"]): str(c["detail"]) for c in checks if str(c["check"]).startswith("llm ")
    }
    assert found["llm structured output (response_format json_schema)"].startswith("yes")
    assert found["llm named tool_choice"].startswith("yes: followed")
    assert found["llm cards written as"] == "a JSON object in a response_format JSON Schema"
    assert len(fake.requests) == 3  # one completion, then one probe per feature


def test_doctor_says_what_a_llama_server_like_endpoint_refuses(base: dict[str, str]) -> None:
    """A server that refuses the schema and an object tool_choice (llama.cpp's 400): the
    doctor still passes (the copilot adapts) and says how the cards will be asked for."""
    with FakeOpenAI(responder=model_like.respond, json_schema=False, named_choice=False) as fake:
        code, checks = doctor({**base, "COPILOT_LLM_BASE_URL": fake.url})
    found = {str(c["check"]): str(c["detail"]) for c in checks if str(c["check"]).startswith("llm")}
    assert code == 0
    assert "no: refused: HTTP 400" in found["llm structured output (response_format json_schema)"]
    assert "tool_choice" in found["llm named tool_choice"]
    assert found["llm cards written as"] == 'a tool call (tool_choice "required")'


def test_doctor_skips_the_probes_of_an_endpoint_that_is_not_there(base: dict[str, str]) -> None:
    with FakeOpenAI([Reply(status=404)]) as fake:
        code, checks = doctor({**base, "COPILOT_LLM_BASE_URL": fake.url})
    assert code == 1 and not any(str(c["check"]).startswith("llm ") for c in checks)
    assert len(fake.requests) == 1


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
    rendered = prompts.render(
        "repair", tool="write_cards", problem="summary: Field required", as_call=True
    )
    assert rendered.ref == "repair.v2" and "summary: Field required" in rendered.text
    assert "Call write_cards again" in rendered.text
    as_json = prompts.render("repair", tool="write_cards", problem="x", as_call=False)
    assert "JSON object again" in as_json.text and "Call write_cards" not in as_json.text
    with pytest.raises(prompts.PromptError, match="'problem' is undefined"):
        prompts.render("repair", tool="write_cards", as_call=True)
    with pytest.raises(prompts.PromptError, match="no prompt named"):
        prompts.render("nope")
    with pytest.raises(prompts.PromptError, match="no version 9"):
        prompts.render("turn", version=9)
