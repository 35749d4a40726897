"""A rule-based Brightwave chat bot that hands the customer to a person mid-conversation.

It plays a scripted customer, then sends the conversation to the copilot (POST /v1/handoffs):
who the customer is, how the bot verified them, what it tried, what is still open. The agent's
panel opens with all of it, so the customer does not repeat themselves.

    python examples/handoff_bot.py --url http://127.0.0.1:8000 --key <bot key> [--script past-due]
    python examples/handoff_bot.py ... --langchain   # the same handoff through the LangChain tool

The bot's own systems (customer lookup, text codes, payments) are a stub here; a real bot calls
its company's. Nothing but this project is needed.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import ToolMessage
from rich.console import Console

from copilot.handoff import (
    Attempt,
    CustomerRef,
    HandoffAccepted,
    HandoffRequest,
    Line,
    Origin,
    Verified,
)
from server.client import (
    CopilotClient,
    CopilotClientError,
    HandoffContext,
    handoff_tool,
)

BOT_NAME = "brightwave-assistant"
GREETING = "Hi, I'm Brightwave's virtual assistant. How can I help?"
ARTICLE_ID = "billing-autopay-expired-card"
ARTICLE_URL = "https://help.brightwave.example/billing/autopay-expired-card"
DEMO_CODE = "402931"  # the stub texts the same code every time, so a script can type it

# The customer's side of each demo conversation, in order.
SCRIPTS: dict[str, list[str]] = {
    "past-due": [
        "Hi, I got an email saying my bill is past due, but I'm on autopay. What happened?",
        "Sure, it's (415) 555-0101",
        DEMO_CODE,
        "I'd rather talk to a person, please. Can they waive the late fee too?",
    ],
}
# Where each script's customer came from: the chat link in Margaret's past-due email.
ORIGINS: dict[str, Origin] = {
    "past-due": Origin(channel="email", kind="email_link", reference="INT-9000001-2"),
}

WANTS_PERSON = re.compile(r"\b(person|human|agent|representative|someone real)\b", re.I)
BILLING = re.compile(r"\b(bill|past due|autopay|payment|late fee|charged?)\b", re.I)
FEE_WAIVER = re.compile(
    r"\b(waive|refund|remove|take off)\b.*\bfee|\bfee\b.*\b(waived?|refund)", re.I
)
PHONE = re.compile(r"\(?\b(\d{3})\)?[\s.-]*(\d{3})[\s.-]*(\d{4})\b")
CODE = re.compile(r"\b(\d{6})\b")

State = Literal["start", "phone", "code", "helping", "handing_off"]


@dataclass(frozen=True)
class Account:
    customer_id: str
    name: str
    account: str
    phone: str


class Backend:
    """The bot's own systems, stubbed: who has this number, text codes, retrying a payment."""

    def __init__(self) -> None:
        margaret = Account("CUS-9000001", "Margaret Chen", "BA90000001", "(415) 555-0101")
        self.accounts = {"4155550101": margaret}

    def lookup(self, digits: str) -> Account | None:
        return self.accounts.get(digits)

    def send_code(self, account: Account) -> str:
        return account.phone[-4:]

    def check_code(self, account: Account, code: str) -> bool:
        return code == DEMO_CODE

    def retry_payment(self, account: Account) -> str:
        return "declined: card on file expired"


class HandoffBot:
    """A chat bot of a few rules: find the account, verify by text code, retry, or hand off.

    `reply` takes one customer message and answers; `transcript` holds both sides. Once
    `wants_person` is true, `handoff(client)` sends everything to the copilot.
    """

    def __init__(
        self,
        origin: Origin | None = None,
        conversation_id: str | None = None,
        backend: Backend | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.conversation_id = conversation_id or f"bw-chat-{uuid.uuid4().hex[:12]}"
        self.origin = origin
        self.backend = backend or Backend()
        self.clock = clock
        self.state: State = "start"
        self.account: Account | None = None
        self.verification: Verified | None = None
        self.intent: str | None = None
        self.details: dict[str, str] = {}
        self.tried: list[Attempt] = []
        self.open_questions: list[str] = []
        self.transcript: list[Line] = []
        self.accepted: HandoffAccepted | None = None
        self._say("bot", GREETING)

    @property
    def handoff_id(self) -> str:
        # One handoff per conversation: sending it again (a retry, a second tool call) is a no-op.
        return f"{self.conversation_id}-handoff"

    @property
    def wants_person(self) -> bool:
        return self.state == "handing_off"

    def reply(self, customer_text: str) -> str:
        self._say("customer", customer_text)
        answer = self._answer(customer_text)
        self._say("bot", answer)
        return answer

    def _say(self, speaker: Literal["customer", "bot"], text: str) -> None:
        self.transcript.append(Line(speaker=speaker, text=text, ts=self.clock()))

    def _ask(self, question: str) -> None:
        if question not in self.open_questions:
            self.open_questions.append(question)

    def _answer(self, text: str) -> str:
        if FEE_WAIVER.search(text):
            self._ask("waive the late fee?")
        if self.intent is None and BILLING.search(text):
            self.intent = "billing_past_due"
        if WANTS_PERSON.search(text):
            self.state = "handing_off"
            return (
                "Of course. I'm connecting you with a Brightwave agent now; they'll see "
                "everything we covered, so you won't need to repeat yourself."
            )
        if self.state == "start":
            if self.intent is None:
                return "I can help with bills, payments and autopay. What's going on?"
            self.state = "phone"
            return "I'm sorry about that, let me look. What's the mobile number on your account?"
        if self.state == "phone":
            return self._find_account(text)
        if self.state == "code":
            return self._verify(text)
        return "Is there anything else I can help with? I can also connect you with a person."

    def _find_account(self, text: str) -> str:
        found = PHONE.search(text)
        if found is None:
            return "I didn't catch a number. What's the mobile number on the account?"
        self.details["phone"] = found.group(0)
        account = self.backend.lookup("".join(found.groups()))
        if account is None:
            return "I couldn't find an account with that number. Could you check it for me?"
        self.account = account
        self.state = "code"
        ending = self.backend.send_code(account)
        return f"Thanks. I've texted a 6-digit code to the number ending {ending}. Please type it."

    def _verify(self, text: str) -> str:
        found, account = CODE.search(text), self.account
        if account is None:
            self.state = "phone"
            return "What's the mobile number on your account?"
        if found is None or not self.backend.check_code(account, found.group(1)):
            return "That code didn't match. Please check the text message and type it again."
        self.verification = Verified(method="otp_sms", channel="chat", at=self.clock())
        self.details["account"] = account.account
        self.state = "helping"
        outcome = self.backend.retry_payment(account)
        self.tried.append(Attempt(kind="action", name="retry_payment", outcome=outcome))
        if not outcome.startswith("declined"):
            return "Thanks, you're verified. I retried the payment and it went through."
        # Card numbers are not taken in chat: updating the card is left to the customer or an agent.
        self.tried.append(Attempt(kind="article", name=ARTICLE_ID, outcome="shown"))
        self._ask("update the autopay card")
        return (
            "Thanks, you're verified. I tried the payment again, but it was declined: the card "
            f"on file for autopay has expired. This article shows how to update it: {ARTICLE_URL}"
        )

    def customer(self) -> CustomerRef | None:
        if self.account is None:
            return CustomerRef(phone=self.details["phone"]) if "phone" in self.details else None
        a = self.account
        return CustomerRef(customer_id=a.customer_id, phone=a.phone, account=a.account, name=a.name)

    def request(self) -> HandoffRequest:
        """Everything the bot knows, as POST /v1/handoffs takes it."""
        return HandoffRequest(
            handoff_id=self.handoff_id,
            bot=BOT_NAME,
            channel="chat",
            customer=self.customer(),
            verification=self.verification,
            intent=self.intent,
            details=self.details,
            tried=self.tried,
            open_questions=self.open_questions,
            transcript=self.transcript,
            origin=self.origin,
        )

    def handoff(self, client: CopilotClient) -> HandoffAccepted:
        self.accepted = client.handoff(self.request())
        return self.accepted

    # --- the same handoff as a LangChain agent makes it ------------------------------------

    def context(self) -> HandoffContext:
        """What the program supplies to the tool: facts a model should not retype."""
        return HandoffContext(
            handoff_id=self.handoff_id,
            bot=BOT_NAME,
            channel="chat",
            customer=self.customer(),
            verification=self.verification,
            transcript=self.transcript,
            origin=self.origin,
        )

    def tool_call(self) -> dict[str, Any]:
        """The tool call a model would write at this point of the conversation."""
        args = {
            "intent": self.intent,
            "reason": "the customer asked for a person",
            "details": self.details,
            "tried": [t.model_dump(exclude_none=True) for t in self.tried],
            "open_questions": self.open_questions,
        }
        call_id = f"call-{self.conversation_id}"
        return {"type": "tool_call", "id": call_id, "name": "handoff_to_human", "args": args}


def play(bot: HandoffBot, lines: list[str], console: Console) -> None:
    console.print(f"[bold]bot:[/] {GREETING}", highlight=False)
    for line in lines:
        console.print(f"[bold]customer:[/] {line}", highlight=False)
        console.print(f"[bold]bot:[/] {bot.reply(line)}", highlight=False)
        if bot.wants_person:
            return


def handoff_with_langchain(bot: HandoffBot, client: CopilotClient) -> HandoffAccepted:
    """Call the tool the way an agent executor does: a ToolMessage comes back for the model."""
    tool = handoff_tool(client, conversation=bot.context)
    message = tool.invoke(bot.tool_call())
    accepted = getattr(message, "artifact", None)
    if not isinstance(message, ToolMessage) or not isinstance(accepted, HandoffAccepted):
        # The tool turned the failure into a message for the model; the program wants an error.
        told = str(getattr(message, "content", message)).removeprefix("the handoff failed: ")
        raise CopilotClientError(0, "tool_error", told)
    bot.accepted = accepted
    return accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the copilot's base URL")
    parser.add_argument("--key", required=True, help="an API key with the bot role")
    parser.add_argument("--script", choices=sorted(SCRIPTS), default="past-due")
    parser.add_argument("--langchain", action="store_true", help="hand off via the LangChain tool")
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True)
    bot = HandoffBot(origin=ORIGINS.get(args.script))
    play(bot, SCRIPTS[args.script], console)
    if not bot.wants_person:
        console.print("The customer never asked for a person; nothing to hand off.")
        return 0
    try:
        with CopilotClient(args.url, args.key) as client:
            if args.langchain:
                accepted = handoff_with_langchain(bot, client)
            else:
                accepted = bot.handoff(client)
    except CopilotClientError as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"handoff failed: {exc}", highlight=False, markup=False
        )
        return 1
    again = " (accepted before)" if accepted.duplicate else ""
    console.print(f"\nHanded off{again}: session [bold]{accepted.session_id}[/]", highlight=False)
    # A bot reads nothing back: the packet (who the customer is, what was tried) is for the
    # agent, who opens it with GET /v1/handoffs/{handoff_id}.
    if accepted.packet is not None:
        console.print_json(accepted.packet.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
