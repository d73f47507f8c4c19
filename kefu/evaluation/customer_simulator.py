"""A scripted customer who plays one of the shared tasks against Kefu.

The task's instruction (not its gold calls) says who the customer is and what they want:
"Your name is Omar Anderson and your zip code is 19031 ... Return #W6067464 via
credit_card_4190576: Electric Kettle; Wall Clock;". The customer opens with the request and
then answers whatever Kefu asks, the way a person would: two facts of their account together
(email and zip code, or name and zip code, as kefu.yml ``authentication.factors`` asks; a
customer whose instruction names only the email still knows the zip code of their address,
read from the task's user), the zip code alone when asked for it, the order number, the items
by name, the reason, where the refund should go (by card brand and last digits, as people
know their cards), and "yes" to a proposal. Kefu's answers are read
only to know what it asked; the test then compares the database with the expected state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

IDENTITY = re.compile(
    r"Your name is (?P<first>\w+) (?P<last>\w+) and your "
    r"(?:zip code is (?P<zip>\d{5})|email is (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)*\w))"
)
RETURN = re.compile(r"Return (?P<order>#W\d{7}) via (?P<method>\w+): (?P<items>[^.]+?);\s*$")
SWAP = re.compile(r"For (?P<order>#W\d{7}), (?P<verb>exchange|modify) (?P<body>.+?); via (?P<method>\w+)\.")
SWAP_ITEM = re.compile(r"(?P<name>[A-Z][\w\- ]+?) \{(?P<old>[^}]*)\} to \{(?P<new>[^}]*)\}")
CANCEL = re.compile(r"Cancel order (?P<order>#W\d{7}) because (?P<reason>no longer needed|ordered by mistake)\.")


@dataclass
class Script:
    kind: str  # "cancel" | "return" | "exchange" | "modify_items"
    identity: str  # what the customer says to identify: email and zip code, or name and zip code
    order_id: str
    zip_code: str = ""  # the zip code of their address, when Kefu asks for it alone
    full_name: str = ""
    reason: str = ""
    items: List[str] = field(default_factory=list)
    payment_words: str = ""
    swaps: str = ""  # "the notebook with size A5 and the kettle with capacity 2L"

    @property
    def opening(self) -> str:
        if self.kind == "cancel":
            return f"Hi, I want to cancel my order {self.order_id}"
        if self.kind == "exchange":
            return f"Hi, I'd like to exchange some items I received in order {self.order_id}"
        if self.kind == "modify_items":
            return f"Hi, I want to change some items in my pending order {self.order_id}"
        return f"Hello, I'd like to return some items from order {self.order_id}"


def payment_words(method: Dict[str, Any]) -> str:
    """How a customer names one of their own payment methods."""
    if method["source"] == "gift_card":
        return "my gift card"
    if method["source"] == "paypal":
        return "my PayPal account"
    return f"my {method['brand']} card ending in {method['last_four']}"


def swap_words(body: str) -> str:
    """ "Notebook {'size': 'A6'} to {'size': 'A5'}" as a customer says it: "the notebook with size A5"."""
    parts = []
    for match in SWAP_ITEM.finditer(body):
        new = dict(re.findall(r"'([^']+)': '([^']+)'", match["new"]))
        options = ", ".join(f"{key} {value}" for key, value in new.items())
        parts.append(f"the {match['name'].lower()} with {options}")
    return " and ".join(parts)


def script_for(task: Dict[str, Any], users: Dict[str, Any]) -> Script | None:
    """The customer's script for a cancel or return task, or None for other kinds."""
    instruction = " ".join(task["instruction"].split())
    who = IDENTITY.search(instruction)
    if who is None:
        return None
    full_name = f"{who['first']} {who['last']}"
    zip_code = who["zip"] or users.get(task["user_id"], {}).get("address", {}).get("zip")
    if not zip_code:
        return None  # an email alone does not identify anyone
    identity = f"{who['email']}, zip code {zip_code}" if who["email"] else f"{full_name}, zip code {zip_code}"
    who_is = {"identity": identity, "zip_code": zip_code, "full_name": full_name}
    cancel = CANCEL.search(instruction)
    if cancel:
        reason = "I don't need it anymore" if cancel["reason"] == "no longer needed" else "I ordered it by mistake"
        return Script("cancel", order_id=cancel["order"], reason=reason, **who_is)
    swap = SWAP.search(instruction)
    if swap:
        method = users[task["user_id"]]["payment_methods"].get(swap["method"])
        words = swap_words(swap["body"])
        if method is None or not words:
            return None
        kind = "exchange" if swap["verb"] == "exchange" else "modify_items"
        return Script(kind, order_id=swap["order"], payment_words=payment_words(method), swaps=words, **who_is)
    returned = RETURN.search(instruction)
    if returned:
        method = users[task["user_id"]]["payment_methods"].get(returned["method"])
        if method is None:
            return None
        items = [name.strip() for name in returned["items"].split(";") if name.strip()]
        return Script("return", order_id=returned["order"], items=items, payment_words=payment_words(method), **who_is)
    return None


def answer(script: Script, kefu_said: str) -> str:
    """What the customer replies to Kefu's last message."""
    said = kefu_said.lower()
    if "shall i go ahead" in said:
        return "yes, go ahead"
    if "email address" in said or "full name and zip" in said:
        return script.identity
    if "zip code" in said:  # the second factor, after an email or a name alone
        return script.zip_code
    if "your full name" in said:
        return script.full_name
    if "why would you like to cancel" in said or "two reasons" in said:
        return script.reason
    if "which items" in said or "which items you mean" in said:
        names = [f"the {name.lower()}" for name in script.items]
        return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
    if "where should the refund go" in said or "didn't catch where the refund" in said:
        return "to " + script.payment_words
    if "what would you like to change" in said or "which item and which new version" in said:
        return script.swaps
    if "which payment method should pay" in said:
        return script.payment_words
    if "which order" in said:
        return script.order_id
    return "I already told you what I need"


def play(script: Script, say: Callable[[str], str], max_turns: int = 10) -> List[str]:
    """Talk until Kefu confirms a change, refuses, or the turns run out; return the transcript."""
    transcript = [f"customer: {script.opening}"]
    reply = say(script.opening)
    transcript.append(f"kefu: {reply}")
    for _ in range(max_turns):
        if re.search(r"\bdone:|couldn't make that change|nothing was changed|haven't changed", reply, re.IGNORECASE):
            break
        message = answer(script, reply)
        transcript.append(f"customer: {message}")
        reply = say(message)
        transcript.append(f"kefu: {reply}")
    return transcript
