"""A small corpus written by the tests, so each expectation is visible next to its data."""

from __future__ import annotations

from pathlib import Path

ARTICLES = {
    "autopay.md": """---
id: autopay-expired
title: Autopay failed because the card expired
tags: [billing, autopay]
product: billing
channel: [chat, voice]
locale: en-US
updated: 2026-10-01
url: https://help.example/autopay-expired
---
When a card on file expires, the autopay attempt fails and the bill goes past due.

## Fix it
Ask the customer for the new card. Save it as the autopay card. Retry the payment at once.

## Late fee
The first late fee in twelve months is waived when autopay failed for an expired card.
""",
    "jacket.md": """---
id: returns-no-receipt
title: Returning a store purchase without a receipt
product: returns
channel: [store, chat]
url: https://help.example/no-receipt
---
## Find the purchase
Look the purchase up by the last four digits of the card, the amount and the date.

## Refund
Refund to the original card, or give store credit at the lowest price of the last 30 days.
""",
    "roaming.html": """<html><head><title>Travel Pass for roaming</title>
<meta name="id" content="travel-pass"><meta name="product" content="plans">
<meta name="channel" content="chat,voice"></head><body>
<h1>Travel Pass</h1><p>Travel Pass lets customers use their plan abroad in 60 countries.</p>
<h2>Price</h2><p>It costs $15 per month and can be removed at any time.</p></body></html>""",
    "wifi-calling.txt": """Wi-Fi calling
Turn on Wi-Fi calling in the phone settings to make calls where the signal is weak indoors.
Emergency calls need a registered address.""",
}


def write(folder: Path, articles: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (articles or ARTICLES).items():
        (folder / name).write_text(text)
    return folder


def pdf(text_lines: list[str]) -> bytes:
    """A minimal one-page PDF with these lines of text, byte offsets and all."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in text_lines:
        ops.append(f"({line.replace('(', '[').replace(')', ']')}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
