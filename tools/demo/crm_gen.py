"""Rows of the CRM for one chunk of generated customers."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from tools.demo.catalogue import CITIES, STREET_KINDS, STREETS
from tools.demo.population import Base, Rows, customer_id, phone

TIERS = ["standard", "silver", "gold", "platinum"]
CHANNELS = ["ivr", "chatbot", "chat", "voice", "email", "sms", "whatsapp", "store"]
CHANNEL_WEIGHTS = [0.16, 0.18, 0.16, 0.2, 0.1, 0.06, 0.06, 0.08]
TOPICS = {
    "billing question": "Asked about charges on the latest bill; explained line items.",
    "payment": "Took a one-off card payment.",
    "autopay setup": "Set up or updated autopay.",
    "plan change": "Discussed plan options; customer will think about it.",
    "data usage": "Asked why data ran out early; explained usage by line.",
    "device support": "Walked through restart and network reset.",
    "order status": "Gave shipment tracking details.",
    "return or exchange": "Explained the return window and how to return.",
    "roaming": "Added travel information before a trip.",
    "network issue": "Reported dropped calls at home; opened a network ticket.",
    "membership card": "Asked about the Rewards membership card.",
    "account security": "Reset the account PIN after verification.",
}
TOPIC_NAMES = list(TOPICS)
OUTCOMES = ["resolved", "resolved", "resolved", "transferred", "abandoned", "escalated", "pending"]
AGENTS = ["Jordan P.", "Sam K.", "Alex R.", "Taylor M.", "Chris D.", "Morgan L.", "Riley S."]
METHODS = ["otp_sms", "kba", "pin", "id_document", "voice_biometrics", "email_link"]
SOCIAL = ["twitter", "instagram", "facebook"]
LANGS = ["en", "en", "en", "en", "es", "zh", "vi"]


def when(as_of: date, rnd: random.Random, days: int) -> datetime:
    """A time in the `days` before as_of, during opening hours."""
    day = as_of - timedelta(days=int(rnd.random() * days) + 1)
    return datetime(
        day.year, day.month, day.day, 8 + int(rnd.random() * 12), int(rnd.random() * 60)
    )


def crm_rows(b: Base, as_of: date, rnd: random.Random) -> Rows:
    out: Rows = defaultdict(list)
    customers, contacts, addrs = out["customers"], out["contact_points"], out["addresses"]
    consents, events, checks = out["consents"], out["interactions"], out["verifications"]
    for i, num in enumerate(b.numbers):
        cid = customer_id(num)
        first, last = b.first[i], b.last[i]
        tier = TIERS[min(3, int(rnd.random() * 2 + (as_of - b.since[i]).days / 1500))]
        channel = CHANNELS[int(rnd.random() * 5)]
        lang = LANGS[int(rnd.random() * len(LANGS))]
        customers.append(
            (
                cid,
                first,
                last,
                f"{first} {last}".lower(),
                tier,
                b.segment[i],
                b.since[i],
                "active",
                lang,
                channel,
            )
        )
        display, e164 = phone(num, 0)
        contacts.append((num * 8, cid, "phone", "mobile", display, e164, True, True))
        mail = f"{first}.{last}{num}@{('example.com', 'example.net', 'example.org')[num % 3]}"
        contacts.append((num * 8 + 1, cid, "email", "personal", mail, mail.lower(), True, True))
        if rnd.random() < 0.25:
            display, e164 = phone(num, 3)
            contacts.append((num * 8 + 2, cid, "phone", "home", display, e164, False, False))
        if rnd.random() < 0.3:
            handle = f"@{first}{last}{num}".lower()
            net = SOCIAL[int(rnd.random() * 3)]
            contacts.append((num * 8 + 3, cid, "social", net, handle, handle, False, False))
        city, region, prefix = CITIES[b.city[i]]
        postal = f"{prefix}{b.zip_suffix[i]:02d}"
        street = f"{int(rnd.random() * 9000) + 100} {STREETS[num % 10]} {STREET_KINDS[num % 8]}"
        addrs.append((num * 2, cid, "billing", street, city, region, postal, postal, "US"))
        updated = datetime(b.since[i].year, b.since[i].month, b.since[i].day, 12)
        consents.append((num * 4, cid, "email", "marketing", rnd.random() < 0.55, updated))
        consents.append((num * 4 + 1, cid, "sms", "marketing", rnd.random() < 0.35, updated))
        consents.append((num * 4 + 2, cid, "email", "service", True, updated))
        for k in range(min(8, int(rnd.expovariate(0.5)))):
            topic = TOPIC_NAMES[int(rnd.random() * len(TOPIC_NAMES))]
            ch = rnd.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
            outcome = OUTCOMES[int(rnd.random() * len(OUTCOMES))]
            human = ch in ("chat", "voice", "store", "email")
            at = when(as_of, rnd, 365)
            events.append(
                (
                    f"INT-{num:07d}-{k}",
                    cid,
                    ch,
                    "inbound",
                    at,
                    int(rnd.random() * 900) + 30,
                    topic,
                    outcome if ch != "ivr" or outcome != "resolved" else "resolved",
                    AGENTS[int(rnd.random() * len(AGENTS))] if human else None,
                    TOPICS[topic],
                )
            )
            if human and rnd.random() < 0.6:
                method = METHODS[int(rnd.random() * len(METHODS))]
                result = "passed" if rnd.random() < 0.93 else "failed"
                checks.append((f"VER-{num:07d}-{k}", cid, ch, method, result, at))
    return out
