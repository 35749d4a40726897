"""`copilot bench chroma`: the same real chunks in a `chroma run` server and an embedded store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.bench import chroma
from evals.bench.knowledge import DATASETS
from server.cli import app
from tools.kb.chunking import indexed_text
from tools.kb.store import KnowledgeStore, connect

pytestmark = pytest.mark.skipif(
    not (DATASETS / "dstc11_track5_val").is_dir(),
    reason=f"the shared datasets are not under {DATASETS}",
)
CHUNKS = 1000
QUERIES = 30


@pytest.fixture(scope="module")
def result(chroma_url: str) -> chroma.Result:
    return chroma.run(DATASETS, CHUNKS, QUERIES, chroma_url)


def test_both_stores_hold_every_chunk(result: chroma.Result, chroma_url: str) -> None:
    assert result.chunks == CHUNKS
    assert result.sources == {"dstc11 FAQs": CHUNKS}
    assert {side.held for side in result.sides.values()} == {CHUNKS}
    live = KnowledgeStore(connect(url=chroma_url), result.kb).active()  # seen from outside too
    assert live is not None and live.count() == CHUNKS


def test_both_stores_answer_alike_and_are_timed(result: chroma.Result) -> None:
    assert result.queries == QUERIES
    assert result.agreement(ordered=False) >= 0.95
    assert len(result.exact) == QUERIES
    assert all(result.exact_share(side) >= 0.9 for side in chroma.SIDES)  # HNSW is near exact
    for side in result.sides.values():
        assert side.write_s > 0
        for mode in chroma.MODES:
            assert len(side.scores[mode].latency) == QUERIES
            assert all(len(top) == 5 for top in side.scores[mode].top5)
            assert 0 < side.p(mode, 50) <= side.p(mode, 95)
    figures = {f.name: f for f in chroma.figures(result)}
    assert figures["server chunks held"].value == figures["server chunks held"].baseline == CHUNKS
    assert figures["server hybrid p95"].baseline_name == "embedded"


def test_corpus_is_distinct_real_text_from_every_source() -> None:
    built = chroma.corpus(DATASETS, 40_000)
    assert len(built.chunks) == sum(built.sources.values()) == 40_000
    assert list(built.sources) == [name for name, _ in chroma.SOURCES]
    assert all(n > 0 for n in built.sources.values())
    texts = {indexed_text(c) for c in built.chunks}  # what is embedded: no two alike
    assert len({c.id for c in built.chunks}) == len(texts) == 40_000


def test_command_skips_without_data(tmp_path: Path) -> None:
    got = CliRunner().invoke(app, ["bench", "chroma", "--datasets", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert "skipped" in got.output and "dstc11_track5_val" in got.output
