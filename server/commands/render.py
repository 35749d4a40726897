"""Readable terminal output for resolutions and unified views."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from tools.identity import Resolution
from tools.view import Customer360, Section

STATUS_STYLE = {"matched": "green", "ambiguous": "yellow", "not_found": "red"}


def render_resolution(console: Console, r: Resolution) -> None:
    console.print(f"[bold {STATUS_STYLE[r.status]}]{r.status}[/]: {r.message}")
    if r.candidates:
        table = Table("customer", "name", "confidence", "evidence")
        for c in r.candidates:
            evidence = "; ".join(f"{e.identifier} ({e.system}): {e.detail}" for e in c.evidence)
            table.add_row(c.customer_id, c.full_name, f"{c.confidence:.2f}", evidence)
        console.print(table)
    for note in r.degraded:
        console.print(f"[yellow]degraded:[/] {note}")


def _state(name: str, section: Section[object]) -> str:
    where = f"{name} ({section.system})"
    if section.status == "ok":
        return f"[green]{where} ok[/] {section.latency_ms:.0f} ms"
    return f"[red]{where} unavailable[/]: {section.error}"


def render_360(console: Console, v: Customer360) -> None:
    p = v.profile.data
    title = f"{p.full_name} ({v.customer_id})" if p else v.customer_id
    sections = {
        "profile": v.profile,
        "billing": v.billing,
        "orders": v.orders,
        "history": v.interactions,
    }
    lines = [" | ".join(_state(k, s) for k, s in sections.items())]  # type: ignore[arg-type]
    if p:
        contacts = ", ".join(f"{c.kind} {c.value}" for c in p.contacts)
        lines += [
            f"{p.tier} {p.segment} customer since {p.customer_since} | {contacts}",
            "consent: "
            + ", ".join(
                f"{c.purpose} {c.channel} {'yes' if c.granted else 'no'}" for c in p.consents
            ),
        ]
    console.print(Panel("\n".join(lines), title=title))
    for acct in v.billing.data or []:
        a = acct.account
        rows = [f"balance {a.balance:.2f} {a.currency}, status {a.status}"]
        if acct.past_due:
            d = acct.past_due
            rows.append(
                f"[red]PAST DUE[/] {d.amount:.2f} since {d.due_date} "
                f"({d.days_past_due} days), late fees {d.late_fees:.2f}"
            )
        ap = acct.autopay
        reason = f", last failure: {ap.last_failure_reason}" if ap.last_failure_reason else ""
        expired = " [red](card expired)[/]" if ap.card_expired else ""
        rows.append(f"autopay {ap.status} {ap.card or ''}{expired}{reason}")
        for u in acct.usage:
            allowance = "unlimited" if u.allowance_gb is None else f"{u.allowance_gb:g} GB"
            recent = ", ".join(f"{m} {gb:g} GB" for m, gb in u.recent)
            rows.append(
                f"line {u.msisdn} {u.plan} ({allowance}); over in {u.overage_months}/4: {recent}"
            )
        console.print(Panel("\n".join(rows), title=f"billing {a.account_number}"))
    if v.orders.data and (v.orders.data.open_orders or v.orders.data.recent_purchases):
        table = Table("order", "placed", "where", "total", "status", "items / return window")
        for o in v.orders.data.open_orders:
            table.add_row(
                o.order_number,
                f"{o.placed_at:%Y-%m-%d}",
                o.store or "online",
                f"{o.total:.2f}",
                o.status,
                "open order",
            )
        for pur in v.orders.data.recent_purchases:
            o = pur.order
            items = "; ".join(
                f"{i.name}: returnable until {i.return_until}"
                if i.eligible
                else f"{i.name}: not returnable"
                for i in pur.items
            )
            table.add_row(
                o.order_number,
                f"{o.placed_at:%Y-%m-%d}",
                o.store or "online",
                f"{o.total:.2f} ****{o.card_last4}",
                o.status,
                items,
            )
        console.print(table)
    table = Table("when", "channel", "what", "outcome", title="timeline")
    for e in v.timeline[:15]:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.channel, e.summary, e.outcome)
    console.print(Group(table))
