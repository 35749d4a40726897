"""The shipped Brightwave knowledge base answers the stories' conversations, over HTTP too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.settings import load_settings
from copilot.stages.knowledge import find_script
from server.app import create_app
from tests.conftest import api_keys, bearer
from tools.kb.embeddings import Embedder
from tools.kb.query import ConversationQuery, Turn
from tools.kb.retriever import Retriever
from tools.kb.store import KnowledgeStore, connect
from tools.services import start_apps

STORIES = {
    "billing-autopay-expired-card": [
        ("customer", "Hi, I got an email that my bill is past due"),
        ("agent", "I can help with that. Can you confirm your account number?"),
        ("customer", "I've been on autopay for ten years, why did this happen?"),
    ],
    "returns-no-receipt-store-purchase": [
        ("customer", "I bought a jacket in your store two weeks ago"),
        ("agent", "Sorry to hear it does not fit. Do you have the receipt?"),
        ("customer", "No, I lost it. Can I still bring it back?"),
    ],
    "membership-rewards-card-replacement": [
        ("customer", "I need a new membership card"),
        ("bot", "You can find rewards information on our website."),
        ("customer", "I already tried the phone menu and this chat, nobody helps"),
    ],
    "retention-switching-to-competitor": [
        ("customer", "MY CALLS KEEP DROPPING and nobody fixes it"),
        ("agent", "I'm sorry, let me check the ticket"),
        ("customer", "I'm done, I'm switching to Zephyr Mobile this week"),
    ],
}


@pytest.mark.parametrize("article", sorted(STORIES))
def test_story_conversations_get_their_article(
    demo_kb: Path, embedder: Embedder, article: str
) -> None:
    retriever = Retriever(KnowledgeStore(connect(demo_kb)), embedder)
    turns = [Turn(speaker=s, text=t) for s, t in STORIES[article]]
    result = retriever.search(ConversationQuery(turns=turns))
    assert result.status == "answered", result.reason
    assert result.hits[0].citation.article_id == article
    assert result.hits[0].citation.url.startswith("https://help.brightwave.example/")


def test_lines_to_say_are_kept_out_of_the_passages_and_found_by_article(
    demo_kb: Path, embedder: Embedder
) -> None:
    retriever = Retriever(KnowledgeStore(connect(demo_kb)), embedder)
    name = retriever.store.active_name()
    assert name is not None
    index = retriever.lexical_index(name)
    passages = [str(m["text"]) for m in index.metadatas]
    assert passages and not any("say:" in p.lower() for p in passages)
    script = find_script(retriever, "billing-waive-late-fee")
    assert script is not None and script.chunk_id == "billing-waive-late-fee#0"
    lines = script.text.splitlines()
    assert lines[0].startswith('Say: "[first name], I can see the [late fee] late fee')
    assert lines[1].startswith("Once waive_late_fee is done, say:")
    # An article that never says anything gives no script rather than another article's.
    assert find_script(retriever, "account-reset-pin") is None


@pytest.fixture(scope="module")
def api(demo_kb: Path, embedder: Embedder, data_dir: Path) -> Iterator[httpx.Client]:
    settings = load_settings(data_dir=data_dir, kb_dir=demo_kb)
    retriever = Retriever(KnowledgeStore(connect(demo_kb)), embedder)
    with (
        start_apps({"api": create_app(settings, retriever=retriever, keys=api_keys())}) as running,
        httpx.Client(base_url=running.urls["api"], timeout=30, headers=bearer("agent")) as client,
    ):
        yield client


def test_search_over_http(api: httpx.Client) -> None:
    r = api.get(
        "/v1/kb/search", params={"q": "can you waive the late fee, my autopay card expired"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "answered"
    assert body["hits"][0]["citation"]["article_id"] in {
        "billing-waive-late-fee",
        "billing-late-fees",
        "billing-autopay-expired-card",
    }
    filtered = api.get("/v1/kb/search", params={"q": "late fee", "product": "returns"}).json()
    assert all(h["citation"]["article_id"].startswith("returns") for h in filtered["candidates"])
    off = api.get("/v1/kb/search", params={"q": "who won the football game last night"}).json()
    assert off["status"] == "below_floor" and off["hits"] == [] and "floor" in off["reason"]
    conv = api.post(
        "/v1/kb/query",
        json={"turns": [{"speaker": "customer", "text": "I lost my rewards membership card"}]},
    )
    assert conv.json()["hits"][0]["citation"]["article_id"] == "membership-rewards-card-replacement"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "q"),
        ({"q": "   "}, "query"),
        ({"q": "x" * 2001}, "q"),
        ({"q": "autopay", "k": "0"}, "k"),
        ({"q": "autopay", "product": "x' OR 1=1"}, "product"),
        ({"q": "autopay", "mode": "magic"}, "mode"),
    ],
)
def test_bad_searches_get_a_clear_400(
    api: httpx.Client, params: dict[str, str], needle: str
) -> None:
    r = api.get("/v1/kb/search", params=params)
    assert r.status_code == 400
    assert needle in r.json()["error"]["message"]
    assert "Traceback" not in r.text


def test_bad_conversation_gets_a_clear_400(api: httpx.Client) -> None:
    r = api.post("/v1/kb/query", json={"turns": [{"speaker": "hacker", "text": "hi"}]})
    assert r.status_code == 400 and "speaker" in r.json()["error"]["message"]
    r = api.post("/v1/kb/query", content=b"{not json")
    assert r.status_code == 400
