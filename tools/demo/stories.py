"""Hand-written story customers that scenarios, tests and the demo rely on, dated from as_of."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from tools.demo.billing_gen import LATE_FEE, billing_months, invoice_amount
from tools.demo.orders_gen import order_total
from tools.demo.population import Rows

MARGARET, DANIEL, PRIYA, TOM, ANNA, RICK = (f"CUS-900000{i}" for i in range(1, 7))
FAMILY_PHONE = "(425) 555-0104"
JACKET_TOTAL = order_total([89.99])
DUE_DAY = 21


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm))


def _customer(
    out: dict[str, Rows],
    cid: str,
    first: str,
    last: str,
    since: date,
    tier: str,
    segment: str,
    phones: list[tuple[str, str, str]],
    mail: str,
    postal: str,
    city: str,
    region: str,
    handle: str | None = None,
) -> None:
    crm = out["crm"]
    crm["customers"].append(
        (cid, first, last, f"{first} {last}".lower(), tier, segment, since, "active", "en", "chat")
    )
    base = int(cid[-7:]) * 8
    for k, (label, display, e164) in enumerate(phones):
        crm["contact_points"].append((base + k, cid, "phone", label, display, e164, k == 0, True))
    crm["contact_points"].append(
        (base + 5, cid, "email", "personal", mail, mail.lower(), True, True)
    )
    if handle:
        crm["contact_points"].append(
            (base + 6, cid, "social", "twitter", handle, handle, False, True)
        )
    street = f"{100 + int(cid[-1]) * 17} Story Ln"
    crm["addresses"].append((base, cid, "billing", street, city, region, postal, postal, "US"))
    consent_at = _at(since, 12)
    crm["consents"].append((base, cid, "email", "marketing", True, consent_at))
    crm["consents"].append((base + 1, cid, "sms", "marketing", False, consent_at))
    crm["consents"].append((base + 2, cid, "email", "service", True, consent_at))


def _account(
    out: dict[str, Rows],
    cid: str,
    account: str,
    since: date,
    as_of: date,
    plan: str,
    msisdn: str,
    usage: list[float],
    allowance: float | None,
    fee: float,
    autopay: str | None,
    past_due: bool,
) -> None:
    """One line, six months of usage (oldest first) and six invoices ending with the newest."""
    bill = out["billing"]
    line_id = f"L{cid[-7:]}0"
    bill["lines"].append((line_id, account, msisdn, plan, "active", since))
    for month, used in zip(billing_months(as_of), usage, strict=True):
        bill["usage"].append((line_id, month.strftime("%Y-%m"), used, 420))
    balance = 0.0
    for k in range(6):
        due = _months_before(last_due(as_of), 5 - k)
        issued = due.replace(day=1)
        over = max(0.0, usage[k] - allowance) if allowance is not None else 0.0
        amount = invoice_amount(fee, over)
        inv = f"INV-{cid[-7:]}-{k}"
        newest = k == 5
        status = "past_due" if newest and past_due else "paid"
        paid = 0.0 if status == "past_due" else amount
        period = (issued - timedelta(days=1)).replace(day=1)
        bill["invoices"].append(
            (inv, account, period, issued - timedelta(days=1), issued, due, amount, paid, status)
        )
        method = "autopay_card" if autopay else "card"
        pay_at = _at(due - timedelta(days=3), 6)
        if status == "paid":
            bill["payments"].append(
                (f"PAY-{cid[-7:]}-{k}", account, inv, pay_at, amount, method, "succeeded", None)
            )
        else:
            balance = amount + LATE_FEE
            bill["payments"].append(
                (f"PAY-{cid[-7:]}-{k}", account, inv, pay_at, amount, method, "failed", autopay)
            )
            bill["adjustments"].append(
                (
                    f"ADJ-{cid[-7:]}-L",
                    account,
                    "late_fee",
                    LATE_FEE,
                    "Late payment fee",
                    _at(due + timedelta(days=1), 2),
                    inv,
                )
            )
    bill["accounts"].append((account, cid, "active", since, round(balance, 2), "USD"))


def last_due(as_of: date) -> date:
    """The newest due date already past on as_of: the 21st, as every account's calendar has it
    (tools/kb billing-cycle-and-due-dates: issued on the 1st, autopay on the 18th, late fee on
    the 22nd), so the stories and the articles the agent reads agree on the dates."""
    if as_of.day > DUE_DAY:
        return as_of.replace(day=DUE_DAY)
    return (as_of.replace(day=1) - timedelta(days=1)).replace(day=DUE_DAY)


def _months_before(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 - n
    return d.replace(year=months // 12, month=months % 12 + 1)


def _event(
    out: dict[str, Rows],
    cid: str,
    k: int,
    channel: str,
    at: datetime,
    topic: str,
    outcome: str,
    notes: str,
    agent: str | None = None,
    direction: str = "inbound",
    seconds: int = 240,
) -> None:
    out["crm"]["interactions"].append(
        (f"INT-{cid[-7:]}-{k}", cid, channel, direction, at, seconds, topic, outcome, agent, notes)
    )


def _check(
    out: dict[str, Rows], cid: str, k: int, channel: str, method: str, ok: bool, at: datetime
) -> None:
    out["crm"]["verifications"].append(
        (f"VER-{cid[-7:]}-{k}", cid, channel, method, "passed" if ok else "failed", at)
    )


def story_rows(as_of: date) -> dict[str, Rows]:
    """Rows per system and table for the story customers."""
    out: dict[str, Rows] = {system: defaultdict(list) for system in ("crm", "billing", "orders")}
    today = as_of

    # (a) Ten years on autopay; the autopay card expired, the bill went past due, and her data
    # ran over the plan in 3 of the last 4 months.
    since = today.replace(year=today.year - 10) - timedelta(days=30)
    due = last_due(today)
    expired = due.replace(day=1) - timedelta(days=1)
    _customer(
        out,
        MARGARET,
        "Margaret",
        "Chen",
        since,
        "platinum",
        "consumer",
        [("mobile", "(415) 555-0101", "+14155550101")],
        "Margaret.Chen@example.net",
        "94110",
        "San Francisco",
        "CA",
        handle="@mchen_sf",
    )
    _account(
        out,
        MARGARET,
        "BA90000001",
        since,
        today,
        "PLUS-15",
        "+14155550101",
        [11.2, 13.0, 17.8, 18.6, 12.9, 19.4],
        15.0,
        45.0,
        "card_expired",
        True,
    )
    out["billing"]["autopay_mandates"].append(
        (
            "MAN-9000001",
            "BA90000001",
            "card",
            "Visa",
            "4417",
            # The card ran out the month before this bill's autopay attempt (the 18th) failed.
            f"{expired.month:02d}/{expired.year % 100:02d}",
            "failed",
            since,
            _at(due - timedelta(days=3), 6),
            "card_expired",
        )
    )
    _event(
        out,
        MARGARET,
        0,
        "chat",
        _at(today - timedelta(days=400), 18),
        "plan change",
        "resolved",
        "Asked about bigger data plans; stayed on Plus 15 GB.",
        "Sam K.",
    )
    _event(
        out,
        MARGARET,
        1,
        "voice",
        _at(today - timedelta(days=120), 11),
        "data usage",
        "resolved",
        "Data ran out before month end; explained overage charges.",
        "Alex R.",
    )
    _event(
        out,
        MARGARET,
        2,
        "email",
        _at(due + timedelta(days=1), 7),
        "billing question",
        "sent",
        "Notice sent: your bill is past due; a late fee of $15.00 was added.",
        direction="outbound",
        seconds=0,
    )
    _check(out, MARGARET, 1, "voice", "kba", True, _at(today - timedelta(days=120), 11))

    # (b) A jacket bought in a store two weeks ago, no receipt: findable only by card, amount, date.
    since = today - timedelta(days=3 * 365)
    _customer(
        out,
        DANIEL,
        "Daniel",
        "Okafor",
        since,
        "silver",
        "consumer",
        [("mobile", "(503) 555-0102", "+15035550102")],
        "dan.okafor@example.com",
        "97205",
        "Portland",
        "OR",
    )
    _account(
        out,
        DANIEL,
        "BA90000002",
        since,
        today,
        "PREM-40",
        "+15035550102",
        [22.0, 25.1, 19.4, 30.2, 28.8, 24.0],
        40.0,
        60.0,
        None,
        False,
    )
    bought = _at(today - timedelta(days=14), 14, 12)
    out["orders"]["orders"].append(
        (
            "S900000201",
            "store",
            DANIEL,
            "ST01",
            bought,
            bought.date(),
            "completed",
            JACKET_TOTAL,
            "Mastercard",
            "7319",
            False,
        )
    )
    out["orders"]["order_items"].append(
        (
            9_000_002_01,
            "S900000201",
            "AP-JACK",
            "Brightwave All-Weather Jacket",
            "apparel",
            1,
            89.99,
        )
    )
    earlier = _at(today - timedelta(days=200), 20, 5)
    out["orders"]["orders"].append(
        (
            "W900000202",
            "online",
            DANIEL,
            None,
            earlier,
            earlier.date(),
            "delivered",
            order_total([29.99]),
            "Mastercard",
            "7319",
            True,
        )
    )
    out["orders"]["order_items"].append(
        (9_000_002_02, "W900000202", "AC-CASE", "Clear Protective Case", "accessory", 1, 29.99)
    )
    out["orders"]["shipments"].append(
        (
            "SHP-900000202",
            "W900000202",
            "UPS",
            "1Z900000000202",
            "delivered",
            earlier + timedelta(hours=20),
            earlier + timedelta(days=3),
            (earlier + timedelta(days=3)).date(),
        )
    )

    # (c) Needs a replacement membership card; already tried the IVR and the chatbot today.
    since = today - timedelta(days=6 * 365)
    _customer(
        out,
        PRIYA,
        "Priya",
        "Raman",
        since,
        "gold",
        "consumer",
        [("mobile", "(206) 555-0103", "+12065550103")],
        "priya.raman@example.org",
        "98103",
        "Seattle",
        "WA",
    )
    _account(
        out,
        PRIYA,
        "BA90000003",
        since,
        today,
        "UNL",
        "+12065550103",
        [31.0, 28.4, 35.2, 29.9, 33.1, 30.5],
        None,
        75.0,
        "active",
        False,
    )
    out["billing"]["autopay_mandates"].append(
        (
            "MAN-9000003",
            "BA90000003",
            "card",
            "Amex",
            "0612",
            f"04/{(today.year + 2) % 100:02d}",
            "active",
            since,
            _at(today - timedelta(days=10), 6),
            None,
        )
    )
    _event(
        out,
        PRIYA,
        0,
        "ivr",
        _at(today, 9, 5),
        "membership card",
        "self_service_failed",
        "Chose 'replace Rewards membership card'; the IVR cannot reissue cards; caller hung up.",
        seconds=190,
    )
    _check(out, PRIYA, 0, "ivr", "pin", True, _at(today, 9, 4))
    _event(
        out,
        PRIYA,
        1,
        "chatbot",
        _at(today, 10, 20),
        "membership card",
        "abandoned",
        "Asked the bot for a replacement membership card; bot offered the FAQ link; customer "
        "asked for a person and left the queue after 12 minutes.",
        seconds=900,
    )
    _check(out, PRIYA, 1, "chatbot", "otp_sms", True, _at(today, 10, 21))

    # (d) Two customers sharing one family phone number.
    since = today - timedelta(days=8 * 365)
    for cid, first, mobile, mail, acct in (
        (TOM, "Tom", "0114", "tom.becker@example.com", "BA90000004"),
        (ANNA, "Anna", "0124", "anna.becker@example.com", "BA90000005"),
    ):
        _customer(
            out,
            cid,
            first,
            "Becker",
            since,
            "gold",
            "family",
            [
                ("mobile", f"(425) 555-{mobile}", f"+1425555{mobile}"),
                ("family", FAMILY_PHONE, "+14255550104"),
            ],
            mail,
            "98052",
            "Redmond",
            "WA",
        )
        _account(
            out,
            cid,
            acct,
            since,
            today,
            "PREM-40",
            f"+1425555{mobile}",
            [20.0, 18.5, 22.1, 19.0, 21.4, 20.2],
            40.0,
            60.0,
            None,
            False,
        )

    # (e) Angry: dropped calls for weeks, threatening to leave for a competitor.
    since = today - timedelta(days=4 * 365)
    _customer(
        out,
        RICK,
        "Rick",
        "Delgado",
        since,
        "silver",
        "consumer",
        [("mobile", "(971) 555-0106", "+19715550106")],
        "rick.delgado@example.com",
        "97035",
        "Lake Oswego",
        "OR",
    )
    _account(
        out,
        RICK,
        "BA90000006",
        since,
        today,
        "UNL",
        "+19715550106",
        [40.1, 38.0, 42.5, 39.9, 41.0, 44.2],
        None,
        75.0,
        None,
        False,
    )
    for k, days, channel, outcome, note in (
        (
            0,
            21,
            "voice",
            "pending",
            "Dropped calls at home every evening; network ticket NT-4471 opened.",
        ),
        (
            1,
            9,
            "chat",
            "escalated",
            "Still dropping calls; ticket NT-4471 has no update. Very frustrated.",
        ),
        (
            2,
            2,
            "voice",
            "escalated",
            "Third contact about dropped calls. Said he will switch to "
            "Zephyr Mobile this week if it is not fixed. Asked for a supervisor.",
        ),
    ):
        _event(
            out,
            RICK,
            k,
            channel,
            _at(today - timedelta(days=days), 19),
            "network issue",
            outcome,
            note,
            "Taylor M.",
            seconds=780,
        )
        _check(out, RICK, k, channel, "kba", True, _at(today - timedelta(days=days), 19))
    out["billing"]["adjustments"].append(
        (
            "ADJ-9000006-C",
            "BA90000006",
            "credit",
            10.0,
            "Goodwill credit for dropped calls",
            _at(today - timedelta(days=9), 19, 30),
            None,
        )
    )
    return out
