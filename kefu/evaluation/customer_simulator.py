"""A scripted customer who plays one whole shared task against Kefu, every request of it in turn.

The task's instruction says who the customer is ("Your name is Omar Anderson and your zip code
is 19031 ..."); its write calls say what they want, in the order they want it: cancel this
order because it was ordered by mistake, then ship that one to a new address, then return the
kettle and the clock to the credit card (the instructions of the train set spell out the same
calls: "Cancel order #W7807323 because ordered by mistake. For #W2618034, change address to
{...}"; those of the dev set say it in prose). The customer says each in a customer's words,
never in the shop's ids: item names, the options that change ("the helmet with size L,
ventilation high"), the card's brand and last digits. The customer opens with the first
request and answers whatever Kefu asks, the way a person would: two facts of their account
together (email and zip code, or name and zip code, as kefu.yml ``authentication.factors``
asks; a customer whose instruction names only the email still knows the zip code of their
address, read from the task's user), the order number, the items by name, the reason, where the
refund should go (by card brand and last digits, as people know their cards), the new address
on one line, and "yes" to a proposal. When Kefu has done (or refused) one request, the customer
asks for the next one in the same conversation.

Customers differ the way real ones do, chosen by the task's position so that every run plays
the same conversations: some give their identity in the opening message, some name the items
of a return or exchange without the order number ("I'd like to return the kettle and the
clock") and give the number only when Kefu asks which order. Kefu's answers are read only to
know what it asked; the caller compares the database with the expected state afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

# "Your name is Omar Anderson and your zip code is 19031" or "... and your email is ...": the
# customer knows both facts of their account either way (a customer unsure of their email, as
# in one dev task, says their name).
IDENTITY = re.compile(
    r"Your name is (?P<first>\w+) (?P<last>\w+)(?: and your "
    r"(?:zip code is (?P<zip>\d{5})|email is (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)*\w)))?"
)
WRITES = {
    "cancel_pending_order",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_pending_order_items",
    "modify_pending_order_address",
    "modify_pending_order_payment",
}
REASON_WORDS = {"no longer needed": "I don't need it anymore", "ordered by mistake": "I ordered it by mistake"}
# What ends one request: Kefu did it, refused it, sent it for review, or found nothing to change.
SETTLED = re.compile(
    r"\bdone:|couldn't make that change|nothing was changed|haven't changed|review queue"
    r"|can't find an order on your account that allows",
    re.IGNORECASE,
)


def settled(kefu_said: str) -> bool:
    """Kefu has done, refused or dropped the request (not when it asks what to correct)."""
    return bool(SETTLED.search(kefu_said)) and "what should be different" not in kefu_said.lower()


@dataclass(frozen=True)
class Request:
    """One thing the customer wants done, with the words they use for it."""

    kind: str  # cancel | return | exchange | modify_items | order_address | order_payment | keep
    order_id: str
    reason: str = ""
    items: Tuple[str, ...] = ()  # "the kettle", "the clock": what is returned or swapped
    swaps: str = ""  # "the notebook with size A5 and the kettle with capacity 2L"
    current: str = ""  # "the notebook that is now A6, soft cover": which one, when Kefu asks
    payment_words: str = ""
    address: str = ""
    without_order_number: bool = False  # the opening names the items, not the order
    # Detours real customers take, none of which changes what they end up asking for:
    question: str = ""  # asked before the request: "Do you have the helmet with size L?"
    extra_item: str = ""  # named with the items, then dropped at the proposal ("actually, only ...")
    asks_amount: bool = False  # "How much will I get back in total?" before saying yes

    def opening(self, first: bool) -> str:
        start = "Hi, I" if first else "I"
        also = "" if first else " also"
        order = f"order {self.order_id}"
        if self.kind == "keep":
            return f"{start}'m not happy with my {order}: it doesn't look like the pictures on the website"
        if self.kind == "cancel":
            return f"{start}{also} want to cancel my {order}"
        if self.kind == "order_address":
            return f"{start}{also} need to change the shipping address of my {order}"
        if self.kind == "order_payment":
            return f"{start}{also} want to change the payment method of my {order}"
        named = _said_list(list(self.items))
        if self.kind == "exchange":
            what = f"exchange {named}" if self.without_order_number else f"exchange some items I received in {order}"
            return f"{start}'d{also} like to {what}"
        if self.kind == "modify_items":
            return f"{start}{also} want to change some items in my pending {order}"
        what = f"return {named}" if self.without_order_number else f"return some items from {order}"
        return f"{start}'d{also} like to {what}"


@dataclass
class Script:
    identity: str  # what the customer says to identify: email and zip code, or name and zip code
    zip_code: str
    full_name: str
    requests: List[Request] = field(default_factory=list)
    introduction: str = ""  # "Hi, I'm Ana Silva, zip code 12345.": who they are, in the opening message
    refused_first: str = ""  # an order Kefu must refuse to cancel (delivered), asked about first

    def opening(self, number: int) -> str:
        """How the customer asks for request ``number``: the first with their introduction, if any."""
        first = number == 0 and not self.refused_first
        said = self.requests[number].opening(first=first)
        if first and self.introduction:
            return f"{self.introduction} I{said.removeprefix('Hi, I')}"
        return said

    @property
    def kinds(self) -> List[str]:
        return [r.kind for r in self.requests]

    @property
    def kind(self) -> str:
        """The task's kind for reports: the one kind of its requests, or "mixed"."""
        kinds = set(self.kinds)
        return kinds.pop() if len(kinds) == 1 else "mixed"


def _said_list(parts: List[str]) -> str:
    return " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]


def payment_words(method: Dict[str, Any]) -> str:
    """How a customer names one of their own payment methods."""
    if method["source"] == "gift_card":
        return "my gift card"
    if method["source"] == "paypal":
        return "my PayPal account"
    return f"my {method['brand']} card ending in {method['last_four']}"


def _options_said(options: Dict[str, str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in options.items())


def address_words(parts: Dict[str, str]) -> str:
    """{'address1': '816 Spruce Street', 'address2': 'Suite 114', ...} on one line, as people write it."""
    street = ", ".join(p for p in (parts.get("address1"), parts.get("address2")) if p)
    return f"{street}, {parts['city']}, {parts['state']} {parts['zip']}"


class _Shop:
    """The seed as the customer knows it: their orders' items and the catalogue's versions."""

    def __init__(self, seed: Dict[str, Dict[str, Any]], user: Dict[str, Any]) -> None:
        self.orders, self.products = seed["orders"], seed["products"]
        self.methods: Dict[str, Dict[str, Any]] = user.get("payment_methods", {})

    def items(self, order_id: str) -> List[Dict[str, Any]]:
        return list(self.orders[order_id]["items"])

    def item(self, order_id: str, item_id: str) -> Dict[str, Any]:
        return next(i for i in self.items(order_id) if i["item_id"] == item_id)

    def item_words(self, order_id: str, item_id: str) -> str:
        """ "the kettle", or "the kettle in 1L, glass" when the order has more than one kettle."""
        item = self.item(order_id, item_id)
        name = item["name"].lower()
        if sum(i["name"] == item["name"] for i in self.items(order_id)) > 1:
            return f"the {name} in " + ", ".join(item["options"].values())
        return f"the {name}"

    def other_item(self, order_id: str, item_ids: List[str]) -> str:
        """ "the yoga mat": an item of the order besides these, by a name no other item shares."""
        names = [i["name"] for i in self.items(order_id)]
        taken = {self.item(order_id, i)["name"] for i in item_ids}
        spare = [n for n in names if n not in taken and names.count(n) == 1]
        return f"the {spare[0].lower()}" if spare else ""

    def new_options(self, order_id: str, old_id: str, new_id: str) -> Dict[str, str]:
        """The options of the new version that differ from the item's: what a customer asks for."""
        item = self.item(order_id, old_id)
        new = self.products[item["product_id"]]["variants"][new_id]["options"]
        return {key: value for key, value in new.items() if item["options"].get(key) != value}


def _request_of(call: Dict[str, Any], shop: _Shop, vary: int) -> Request | None:
    """One gold call as the customer asks for it."""
    name, args = call["name"], call["kwargs"]
    order_id = args.get("order_id", "")
    method = shop.methods.get(args.get("payment_method_id", ""))
    if name == "cancel_pending_order":
        return Request("cancel", order_id, reason=REASON_WORDS[args["reason"]])
    if name == "modify_pending_order_address":
        return Request("order_address", order_id, address=address_words(args))
    if method is None:
        return None
    if name == "modify_pending_order_payment":
        return Request("order_payment", order_id, payment_words=payment_words(method))
    if not args["item_ids"]:
        return None
    if name == "return_delivered_order_items":
        named = tuple(dict.fromkeys(shop.item_words(order_id, i) for i in args["item_ids"]))
        # Every fourth return names its items and leaves the order to Kefu; some customers name
        # one item too many and take it back at the proposal, some ask what they will get back.
        return Request(
            "return",
            order_id,
            items=named,
            payment_words=payment_words(method),
            without_order_number=vary % 4 == 2,
            extra_item=shop.other_item(order_id, args["item_ids"]) if vary % 7 == 4 else "",
            asks_amount=vary % 4 == 3,
        )
    wanted, now = [], []
    for old_id, new_id in zip(args["item_ids"], args["new_item_ids"], strict=True):
        said = shop.item_words(order_id, old_id)
        options = shop.new_options(order_id, old_id, new_id)
        wanted.append(f"{said} with {_options_said(options)}" if options else f"{said} for a new one exactly like it")
        now.append(f"{said} that is now " + ", ".join(shop.item(order_id, old_id)["options"].values()))
    kind = "exchange" if name == "exchange_delivered_order_items" else "modify_items"
    first_old, first_new = args["item_ids"][0], args["new_item_ids"][0]
    first_options = shop.new_options(order_id, first_old, first_new)
    # Every fifth asks whether the new version exists before asking for it.
    question = ""
    if vary % 5 == 3 and first_options:
        product = shop.item(order_id, first_old)["name"].lower()
        question = f"Before I decide: do you have the {product} with {_options_said(first_options)}?"
    return Request(
        kind,
        order_id,
        items=tuple(dict.fromkeys(shop.item_words(order_id, i) for i in args["item_ids"])),
        swaps=" and ".join(wanted),
        current=" and ".join(now),
        payment_words=payment_words(method),
        without_order_number=kind == "exchange" and vary % 4 == 2,
        question=question,
    )


def script_for(task: Dict[str, Any], seed: Dict[str, Dict[str, Any]], position: int = 0) -> Script | None:
    """The customer's script for a task, or None when it cannot be played.

    Who the customer is comes from the instruction; what they want, in their order, from the
    task's write calls (the instruction's requests in the shop's terms: the prose instructions
    of the dev set say the same things in free words). ``position`` (the task's index) chooses,
    the same way every run, how this customer speaks.
    """
    instruction = " ".join(task["instruction"].split())
    who = IDENTITY.search(instruction)
    if who is None:
        return None
    user = seed["users"].get(task["user_id"], {})
    full_name = f"{who['first']} {who['last']}"
    zip_code = who["zip"] or user.get("address", {}).get("zip")
    if not zip_code:
        return None  # an email alone does not identify anyone
    identity = f"{who['email']}, zip code {zip_code}" if who["email"] else f"{full_name}, zip code {zip_code}"
    shop = _Shop(seed, user)
    requests = []
    for call in task["actions"]:
        if call["name"] not in WRITES:
            continue
        request = _request_of(call, shop, position + len(requests))
        if request is None:
            return None
        requests.append(request)
    if not requests:
        # Nothing to change: a complaint the customer ends by keeping everything.
        mentioned = re.search(r"#W\d{7}", instruction)
        if mentioned is None:
            return None
        requests.append(Request("keep", mentioned.group()))
    # Every eleventh first asks to cancel an order that was delivered, is refused, and goes on.
    touched = {c["kwargs"].get("order_id") for c in task["actions"]}
    delivered = [
        o for o in user.get("orders", []) if o not in touched and seed["orders"].get(o, {}).get("status") == "delivered"
    ]
    refused_first = delivered[0] if position % 11 == 5 and delivered else ""
    # Every third customer says who they are before Kefu asks.
    introduction = ""
    if position % 3 == 1:
        introduction = (
            f"Hello, my email is {who['email']} and my zip code is {zip_code}."
            if who["email"]
            else f"Hi, I'm {full_name}, zip code {zip_code}."
        )
    return Script(identity, zip_code, full_name, requests, introduction, refused_first)


def answer(request: Request, script: Script, kefu_said: str) -> str | None:
    """What the customer replies to Kefu's last message about ``request``; None when Kefu did
    not ask for anything the customer knows."""
    said = kefu_said.lower()
    if "shall i go ahead" in said:
        return "yes, go ahead"
    if "email address" in said or "full name and zip" in said:
        return script.identity
    if "zip code" in said and "new address" not in said:  # the second factor, after an email or a name
        return script.zip_code
    if "your full name" in said:
        return script.full_name
    if "why would you like to cancel" in said or "two reasons" in said:
        return request.reason
    if "more than one of those" in said:
        return request.current + (f": {request.swaps}" if request.swaps else "")
    if "which items" in said:
        return _said_list([*request.items, *([request.extra_item] if request.extra_item else [])])
    if "where should the refund go" in said or "didn't catch where the refund" in said:
        return "to " + request.payment_words
    if "what would you like to change" in said or "which item and which new version" in said:
        return request.swaps
    if "which payment method should pay" in said:
        return request.payment_words
    if "new address" in said or "couldn't read an address" in said:
        return request.address
    if "which order" in said or "is there another order" in said:
        return request.order_id
    return None


@dataclass
class Played:
    transcript: List[str] = field(default_factory=list)
    endings: List[str] = field(default_factory=list)  # Kefu's last reply on each request


def play(script: Script, say: Callable[[str], str], turns_per_request: int = 8) -> Played:
    """Ask for each request in turn, answering Kefu until it settles."""
    played = Played()
    transcript = played.transcript

    def exchange(message: str) -> str:
        transcript.append(f"customer: {message}")
        reply = say(message)
        transcript.append(f"kefu: {reply}")
        return reply

    if script.refused_first:
        _refused_first(script, exchange)
    for number, request in enumerate(script.requests):
        if request.question:
            exchange(request.question)
        reply = exchange(script.opening(number))
        if request.kind == "keep":
            reply = exchange("Never mind, I'll keep everything. Thanks.")
        restated, detours = False, _Detours(request)
        for _ in range(turns_per_request if request.kind != "keep" else 0):
            if settled(reply):
                break
            said = detours.instead_of_yes(reply) or answer(request, script, reply)
            if said is None:
                # Kefu answered something else: say the request again, once, as people do.
                said = "I already told you what I need" if restated else request.opening(first=False)
                restated = True
            reply = exchange(said)
        played.endings.append(reply)
    return played


class _Detours:
    """What the customer says at a proposal before saying yes: each detour once."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.done: set[str] = set()

    def instead_of_yes(self, kefu_said: str) -> str | None:
        proposal = kefu_said.lower()
        if "what should be different" in proposal and "mind" in self.done:
            return "Only " + _said_list(list(self.request.items))  # the correction, said again
        if "shall i go ahead" not in proposal:
            return None
        extra = self.request.extra_item
        if extra and "mind" not in self.done and extra.removeprefix("the ") in proposal:
            self.done.add("mind")
            return "Actually, not " + extra + ": only " + _said_list(list(self.request.items))
        if self.request.asks_amount and "amount" not in self.done:
            self.done.add("amount")
            return "How much will I get back in total?"
        return None


def _refused_first(script: Script, exchange: Callable[[str], str]) -> None:
    """Ask to cancel a delivered order, identify when asked, hear the refusal, drop it."""
    opening = f"Hi, I want to cancel my order {script.refused_first}"
    reply = exchange(f"{script.introduction} I{opening.removeprefix('Hi, I')}" if script.introduction else opening)
    if "email address" in reply.lower() or "full name and zip" in reply.lower():
        exchange(script.identity)
    exchange("OK, never mind that one then.")
