"""`copilot kb` as a user runs it."""

from __future__ import annotations

from pathlib import Path

from tests.kb.corpus import write
from tests.test_cli import copilot


def test_ingest_search_stats(tmp_path: Path) -> None:
    folder = write(tmp_path / "articles")
    (folder / "broken.md").write_text("---\ntitle: [oops\n---\n")
    env = {"COPILOT_KB_DIR": str(tmp_path / "kb")}
    first = copilot("kb", "ingest", str(folder), env=env)
    assert first.returncode == 0, first.stderr
    assert "4 added" in first.stdout
    assert "broken.md" in first.stderr and "YAML" in first.stderr
    again = copilot("kb", "ingest", str(folder), env=env)
    assert "4 unchanged" in again.stdout and "(0 embedded)" in again.stdout
    found = copilot("kb", "search", "autopay failed because the card expired", env=env)
    assert found.returncode == 0 and "answered" in found.stdout
    assert "https://help.example/autopay-expired" in found.stdout
    stats = copilot("kb", "stats", env=env)
    assert "4 articles" in stats.stdout


def test_bad_input_gets_a_message(tmp_path: Path) -> None:
    env = {"COPILOT_KB_DIR": str(tmp_path / "kb")}
    missing = copilot("kb", "ingest", str(tmp_path / "nope"), env=env)
    assert missing.returncode == 2 and "not a folder" in missing.stderr
    only_bad = write(tmp_path / "bad", {"a.docx": "x", "b.md": ""})
    bad = copilot("kb", "ingest", str(only_bad), env=env)
    assert bad.returncode == 2 and "unsupported" in bad.stderr
    for args, needle in (
        (["kb", "search", "  "], "query"),
        (["kb", "search", "x", "--k", "99"], "k"),
        (["kb", "search", "x", "--mode", "magic"], "--mode"),
    ):
        result = copilot(*args, env=env)
        assert result.returncode == 2 and needle in result.stderr
        assert "Traceback" not in result.stderr
