"""`copilot doctor`: what is configured, and whether each part answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from server.commands.common import console, settings


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
) -> None:
    """Check the settings, the demo data, the knowledge base and the LLM endpoint."""
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
    kb = conf.chroma_url or str(conf.kb_dir)
    kb_ok = bool(conf.chroma_url) or Path(conf.kb_dir).is_dir()
    checks.append(("knowledge", kb_ok, kb if kb_ok else f"{kb} missing (run `copilot kb ingest`)"))
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
    if as_json:
        print(json.dumps([{"check": n, "ok": ok, "detail": d} for n, ok, d in checks]))
    else:
        table = Table("check", "status", "detail", title="copilot doctor")
        for name, ok, detail in checks:
            table.add_row(name, "[green]ok[/]" if ok else "[red]FAIL[/]", escape(detail))
        console.print(table)
    if not all(ok for _, ok, _ in checks):
        raise typer.Exit(1)
