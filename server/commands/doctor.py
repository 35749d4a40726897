"""`copilot doctor`: what is configured, and whether each part answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from server.commands.common import console, hide_password, settings

if TYPE_CHECKING:
    from copilot.llm.provider import LlmConfig


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
) -> None:
    """Check the settings, the demo data, the knowledge base, the sessions database, Redis and
    the LLM endpoint."""
    from copilot.llm.provider import LlmConfig, probe

    conf = settings()
    checks: list[tuple[str, bool, str]] = []
    if conf.backend == "sql":
        missing = [
            name
            for name, url in (
                ("crm", conf.crm_db_url),
                ("billing", conf.billing_db_url),
                ("orders", conf.orders_db_url),
            )
            if url is None and not (Path(conf.data_dir) / f"{name}.db").is_file()
        ]
        checks.append(
            (
                "systems",
                not missing,
                f"sql, {conf.data_dir}"
                + (
                    f": missing {', '.join(missing)} (run `copilot data generate`)"
                    if missing
                    else ""
                ),
            )
        )
    else:
        checks.append(("systems", True, f"rest: {conf.crm_api_url}, {conf.billing_api_url}, ..."))
    checks.append(_knowledge(conf.chroma_url, Path(conf.kb_dir)))
    checks.append(_sessions(conf.sessions_database()))
    checks.append(_redis(conf.redis_url))
    config = LlmConfig.from_settings(conf)
    if config is None:
        checks.append(("llm", True, "not configured: the offline engine fills every card"))
    else:
        found = probe(config, timeout_s=min(config.timeout_s, 15.0))
        key = "with a key" if config.api_key else "no key"
        checks.append(
            (
                "llm",
                found.ok,
                f"{config.base_url} model {config.model!r} ({key}): {found.detail} "
                f"in {found.latency_ms:.0f} ms",
            )
        )
        if found.ok:
            checks += _abilities(config)
    if as_json:
        print(json.dumps([{"check": n, "ok": ok, "detail": d} for n, ok, d in checks]))
    else:
        table = Table("check", "status", "detail", title="copilot doctor")
        for name, ok, detail in checks:
            table.add_row(name, "[green]ok[/]" if ok else "[red]FAIL[/]", escape(detail))
        console.print(table)
    if not all(ok for _, ok, _ in checks):
        raise typer.Exit(1)


def _abilities(config: LlmConfig) -> list[tuple[str, bool, str]]:
    """What the endpoint follows, and so how the copilot will ask it (informational: the
    orchestrator adapts to a refusal, so none of these fails the doctor)."""
    from copilot.llm.endpoint import detect
    from copilot.llm.provider import headers

    found = detect(config.base_url, config.model, headers(config), min(config.timeout_s, 30.0))
    schema = next(f for f in found if f.feature.startswith("structured"))
    named = next(f for f in found if f.feature.startswith("named"))
    if config.structured == "tools":
        how = "a forced tool call (COPILOT_LLM_STRUCTURED=tools)"
    elif schema.ok:
        how = "a JSON object in a response_format JSON Schema"
    else:
        how = "a tool call" + (", forced by name" if named.ok else ' (tool_choice "required")')
    rows = [(f"llm {f.feature}", True, f"{'yes' if f.ok else 'no'}: {f.detail}") for f in found]
    return [*rows, ("llm cards written as", True, how)]


def _knowledge(chroma_url: str | None, kb_dir: Path) -> tuple[str, bool, str]:
    if not chroma_url:
        if kb_dir.is_dir():
            return "knowledge", True, str(kb_dir)
        return "knowledge", False, f"{kb_dir} missing (run `copilot kb ingest`)"
    from tools.kb.store import connect

    try:
        connect(url=chroma_url).heartbeat()
    except Exception as exc:  # chromadb raises its own, httpx's and ValueError alike
        return "knowledge", False, f"{chroma_url} does not answer: {str(exc)[:160]}"
    return "knowledge", True, f"{chroma_url} answers"


def _sessions(url: str) -> tuple[str, bool, str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from copilot import sessions_db
    from copilot.storage import embedded
    from tools.errors import CopilotError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "sessions", False, "COPILOT_SESSIONS_URL is not a database URL"
    if embedded(url):
        return "sessions", True, f"embedded {shown} (made on first use)"
    try:
        sessions_db.require_current(url)
    except CopilotError as exc:
        return "sessions", False, f"{shown}: {exc}"
    return "sessions", True, f"{shown} at revision {sessions_db.head()}"


def _redis(url: str | None) -> tuple[str, bool, str]:
    if not url:
        return "redis", True, "not configured: streams fan out within one worker"
    import redis
    from redis.exceptions import RedisError

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return "redis", False, f"{hide_password(url)} does not answer: {exc}"
    finally:
        client.close()
    return "redis", True, f"{hide_password(url)} answers"
