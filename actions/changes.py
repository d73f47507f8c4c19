"""Changing orders by the shop's rules: cancel, return, exchange, change items, address or payment.

Each change is collected by a form (``cancel_form``, ``return_form``), then proposed in full
(order, items, amounts, where the refund goes) and written only after an explicit yes to that
proposal. A no, a digression or a change of mind leaves the database untouched. The store
enforces the same rules again and makes each write idempotent: the request id is derived from
the conversation and the proposal, so a repeated "yes" can never refund twice.
"""

from __future__ import annotations

import abc
import hashlib
import json
import re
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, message_in_catalogue_words, never_crash, previous_bot_action, store, turn
from actions.handoff import ticket_draft
from actions.orders import list_orders_text, pick_listed_order
from actions.recommendations import suggest_after
from kefu.config import settings
from kefu.escalation.reasons import Reason
from kefu.shop.changes import BY_FORM, CHANGE_SLOTS, KINDS, ChangeFacts, ChangeKind, apply_plan, kind_of
from kefu.shop.changes import refund_destinations as destinations_by_rules
from kefu.shop.wording import joined, money
from kefu.store import normalize_order_id
from kefu.store.base import ChangeRefused, ConcurrentChange, NeedsReview
from kefu.store.records import Customer, Order, OrderItem, OrderSummary, PaymentMethod
from kefu.understanding.cues import says
from kefu.understanding.matching import (
    address_in,
    ambiguous_mention,
    mentioned_items,
    mentioned_payment_method,
    orders_naming,
    requested_swaps,
)
from kefu.understanding.reasons import reason_in


def allowed_statuses(kind: ChangeKind) -> tuple[str, ...]:
    return kind.allowed_statuses(settings().rules)


def eligible_orders(customer_id: str, kind: ChangeKind) -> List[OrderSummary]:
    return [o for o in store().list_orders(customer_id) if o.status in allowed_statuses(kind)]


def refund_destinations(customer: Customer, order: Order) -> List[PaymentMethod]:
    """Where a return may be refunded: the original payment method and/or gift cards (kefu.yml)."""
    return destinations_by_rules(settings().rules, customer, order)


def describe_items(items: List[OrderItem]) -> str:
    return "; ".join(f"{n}. {i.name} ({', '.join(i.options.values())})" for n, i in enumerate(items, start=1))


def current_customer(tracker: Tracker) -> Customer | None:
    return turn(tracker).customer


def chosen_order(tracker: Tracker) -> Order | None:
    """The order the change form is about, read from the store in this call (it may have changed)."""
    return turn(tracker).order(tracker.get_slot("change_order_id"))


def _message(tracker: Tracker) -> tuple[str, str | None]:
    """The latest message in the catalogue's words, and its intent.

    Items are named in the customer's language ("la brosse à dents", "换成黑色的"); the item
    and option rules read the catalogue's English names. Order ids and payment methods read
    the same either way; addresses are read from the text as written (extract_address).
    """
    message = tracker.latest_message or {}
    return message_in_catalogue_words(tracker), (message.get("intent") or {}).get("name")


# Asked by every change form after a "no" to its proposal (a slot of the domain, not of its forms).
CORRECTION_SLOT = "change_correction"


def _answer_or_request(tracker: Tracker) -> str:
    """The words to read for the form's first slots: the answer to Kefu's question, or, when the
    form has asked nothing yet, the request itself ("return the kettle", said before Kefu
    asked who the customer is)."""
    if tracker.get_slot("requested_slot") is None:
        return turn(tracker).request_text
    return message_in_catalogue_words(tracker)


class ValidateChangeForm(FormValidationAction):
    """One validator for every change form: which order, then the slots of the form's kind.

    Rasa asks each form's own validation action (``validate_<form>``); one subclass per change
    kind is made below, so a new kind needs no validator of its own. Rasa SDK calls only the
    ``extract_<slot>`` methods of the slots the running form asks for.
    """

    change: ChangeKind = KINDS["cancel"]

    @abc.abstractmethod
    def name(self) -> str:
        """``validate_<form>``, set on each kind's subclass (abstract: this one is not registered)."""

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[str]:
        # Nothing left to ask when the change cannot be made (Kefu has said why).
        if tracker.get_slot("change_blocked"):
            return []
        # Reopened after a "no" to its proposal: what to correct is asked until it changes.
        return [*domain_slots, CORRECTION_SLOT] if _correcting(tracker) else domain_slots

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> EventList:
        recent = tracker.slots_to_validate()
        if CORRECTION_SLOT in recent:
            # The correction of a rejected proposal: every slot it names, and whether it changed the plan.
            names = (*CHANGE_SLOTS, CORRECTION_SLOT)
            return [SlotSet(name, value) for name, value in recent.items() if name in names]
        # The running form names the change: an answer that sounds like another change
        # ("... and the yoga mat in green" heard as an exchange) must not switch it.
        events = [SlotSet(name, value) for name, value in recent.items() if name in CHANGE_SLOTS]
        if events and tracker.get_slot("change_form") != self.form_name():
            # Only alongside an answer: a message that fills nothing must still be rejected,
            # so that digressions ("how long do refunds take?") reach their rules.
            events.append(SlotSet("change_form", self.form_name()))
        return events

    def _open(self, tracker: Tracker, slot: str) -> bool:
        """Whether the message may (re)fill ``slot``: while it is empty, and for every slot when
        the customer says what to correct in a rejected proposal."""
        return not tracker.get_slot(slot) or _correcting(tracker)

    async def extract_change_correction(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        if not _correcting(tracker):
            return {}
        # Runs after the form's own slots (the last required one), on the slots they just set.
        rejected = json.loads(tracker.get_slot("change_plan") or "null")
        if not _same_plan(self.change.plan({name: tracker.get_slot(name) for name in CHANGE_SLOTS}), rejected):
            return {CORRECTION_SLOT: "made"}
        reopened_now = tracker.latest_action_name == "action_reopen_change"  # reading the "no" itself
        if not reopened_now and _message(tracker)[1] in settings().digressions:
            return {}  # a question instead: its rule answers, then the form asks again
        return {CORRECTION_SLOT: None}  # nothing changed: the form asks (again)

    def _answering(self, tracker: Tracker, slot: str) -> bool:
        _, intent = _message(tracker)
        return tracker.get_slot("requested_slot") == slot and intent not in settings().digressions

    async def extract_change_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        text, intent = _message(tracker)
        current, in_message = tracker.get_slot("change_order_id"), turn(tracker).order_id_said
        if current:
            # "No, the other order: #W..." corrects the order at any point of the form.
            if in_message is None or in_message == current:
                return {}
        elif requested not in (None, "change_order_id") or (requested and intent in settings().digressions):
            return {}
        customer_id = tracker.get_slot("customer_id")
        eligible = eligible_orders(customer_id, self.change)
        order_id = in_message
        if order_id is None and requested:
            order_id = pick_listed_order(text, eligible)
        if order_id is None and not current:
            # The request's own words first ("return the kettle and the clock": the one eligible
            # order holding them), then an order number said earlier (the order_id slot).
            request = text if requested else turn(tracker).request_text
            order_id = normalize_order_id(request) or self._order_holding(tracker, request)
            order_id = order_id or normalize_order_id(tracker.get_slot("order_id") or "")
        if order_id is None and requested is None and len(eligible) == 1 and not tracker.get_slot("order_id"):
            order_id = eligible[0].id
        if order_id is None:
            if not eligible:
                dispatcher.utter_message(
                    response="utter_no_eligible_order",
                    change=self.change.name,
                    statuses=" or ".join(allowed_statuses(self.change)),
                )
                return {"change_blocked": True}
            return {"change_order_id": None} if requested else {}
        order = turn(tracker).order(order_id)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
            return {"change_order_id": None, "order_id": None}
        if order.status not in allowed_statuses(self.change):
            dispatcher.utter_message(
                response="utter_change_not_allowed",
                order_id=order.id,
                status=order.status,
                change=self.change.name,
                statuses=" or ".join(allowed_statuses(self.change)),
            )
            return {"change_order_id": None, "order_id": None}
        if current and current != order.id:
            # Items and refund choices belonged to the previous order.
            return {"change_order_id": order.id, "return_item_ids": None, "refund_method_id": None, "swap_plan": None}
        return {"change_order_id": order.id}

    def _order_holding(self, tracker: Tracker, text: str) -> str | None:
        if not turn(tracker).products_named(text):
            return None  # no product named: no order to look for
        statuses = allowed_statuses(self.change)
        orders = [o for o in store().customer_orders(tracker.get_slot("customer_id")) if o.status in statuses]
        holding = orders_naming(text, orders)
        return holding[0].id if len(holding) == 1 else None

    async def extract_cancel_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        text, _ = _message(tracker)
        reason = reason_in(text, settings().rules.cancel_reasons)
        if reason:
            return {"cancel_reason": reason}
        if self._answering(tracker, "cancel_reason"):
            dispatcher.utter_message(response="utter_reason_not_understood")
            return {"cancel_reason": None}
        return {}

    async def extract_return_item_ids(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        order_id = tracker.get_slot("change_order_id")
        if not order_id or not self._open(tracker, "return_item_ids"):
            return {}
        text = _answer_or_request(tracker)
        order = turn(tracker).order(order_id)
        if order is None:
            return {}
        unclear = ambiguous_mention(text, order.items)
        if unclear:
            dispatcher.utter_message(response="utter_which_item", items=describe_items(unclear))
            return {"return_item_ids": None}
        if len(order.items) == 1 and tracker.get_slot("requested_slot") == "return_item_ids":
            chosen = list(order.items) if not re.search(r"\bno(ne|thing)?\b", text.lower()) else []
        else:
            chosen = mentioned_items(text, order.items)
        if chosen:
            return {"return_item_ids": [i.item_id for i in chosen]}
        if self._answering(tracker, "return_item_ids"):
            dispatcher.utter_message(response="utter_items_not_understood")
            return {"return_item_ids": None}
        return {}

    async def extract_refund_method_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        order_id = tracker.get_slot("change_order_id")
        if not order_id or not self._open(tracker, "refund_method_id") or not tracker.get_slot("return_item_ids"):
            return {}
        text, _ = _message(tracker)
        customer = current_customer(tracker)
        order = turn(tracker).order(order_id)
        if customer is None or order is None:
            return {}
        method = mentioned_payment_method(text, customer.payment_methods, order.original_payment_method_id)
        if method is None:
            if self._answering(tracker, "refund_method_id"):
                dispatcher.utter_message(response="utter_refund_method_not_understood")
                return {"refund_method_id": None}
            return {}
        if method not in refund_destinations(customer, order):
            dispatcher.utter_message(response="utter_refund_method_not_allowed", method=method.describe())
            return {"refund_method_id": None}
        return {"refund_method_id": method.id}

    async def extract_swap_plan(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        order_id = tracker.get_slot("change_order_id")
        if not order_id or not self._open(tracker, "swap_plan"):
            return {}
        text = _answer_or_request(tracker)
        order = turn(tracker).order(order_id)
        if order is None:
            return {}
        unclear = ambiguous_mention(text, order.items)
        if unclear:
            dispatcher.utter_message(response="utter_which_item", items=describe_items(unclear))
            return {"swap_plan": None}
        variants_of = {i.product_id: turn(tracker).product(i.product_id).variants for i in order.items}
        swaps = requested_swaps(text, order.items, variants_of)
        unavailable = [(item, v) for item, v in swaps if not v.available]
        if unavailable:
            item, variant = unavailable[0]
            dispatcher.utter_message(
                response="utter_version_unavailable", product=item.name, options=variant.describe_options()
            )
            return {"swap_plan": None}
        if swaps:
            return {"swap_plan": [[item.item_id, variant.item_id] for item, variant in swaps]}
        if _correcting(tracker):
            # "Actually, only the thermostat": keep the swaps of the items named.
            named = {item.item_id for item in mentioned_items(text, order.items)}
            planned = tracker.get_slot("swap_plan") or []
            kept = [pair for pair in planned if pair[0] in named]
            return {"swap_plan": kept} if kept and kept != planned else {}
        if self._answering(tracker, "swap_plan"):
            dispatcher.utter_message(response="utter_swap_not_understood")
            return {"swap_plan": None}
        return {}

    async def extract_swap_payment_method_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        if not tracker.get_slot("swap_plan") or not self._open(tracker, "swap_payment_method_id"):
            return {}
        text, _ = _message(tracker)
        customer = current_customer(tracker)
        order = chosen_order(tracker)
        original = order.original_payment_method_id if order else None
        method = mentioned_payment_method(text, customer.payment_methods, original) if customer else None
        if method is not None:
            return {"swap_payment_method_id": method.id}
        if self._answering(tracker, "swap_payment_method_id"):
            dispatcher.utter_message(response="utter_refund_method_not_understood")
            return {"swap_payment_method_id": None}
        return {}

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        if not self._open(tracker, "new_address"):
            return {}
        return extract_address(dispatcher, tracker, self._answering(tracker, "new_address"))

    async def extract_new_payment_method_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        order_id = tracker.get_slot("change_order_id")
        if not order_id or not self._open(tracker, "new_payment_method_id"):
            return {}
        customer = current_customer(tracker)
        order = turn(tracker).order(order_id)
        current = order.original_payment_method_id if order else None
        others = [m for m in customer.payment_methods if m.id != current] if customer else []
        method = mentioned_payment_method(_message(tracker)[0], others)
        if method is not None:
            return {"new_payment_method_id": method.id}
        if self._answering(tracker, "new_payment_method_id"):
            dispatcher.utter_message(response="utter_refund_method_not_understood")
            return {"new_payment_method_id": None}
        return {}


def _validator_of(kind: ChangeKind) -> type:
    form, title = kind.form, "Validate" + "".join(part.title() for part in kind.form.split("_"))
    members = {"change": kind, "name": lambda self: f"validate_{form}", "__module__": __name__, "__qualname__": title}
    return type(title, (ValidateChangeForm,), members)


# validate_cancel_form, validate_return_form, ...: registered by Rasa SDK as any Action subclass.
VALIDATORS = {kind.name: _validator_of(kind) for kind in KINDS.values()}


def extract_address(dispatcher: CollectingDispatcher, tracker: Tracker, answering: bool) -> Dict[str, Any]:
    # As written: a street such as "Rio Blanco Rd" must not become an option value.
    address = address_in((tracker.latest_message or {}).get("text") or "")
    if address is not None:
        return {"new_address": vars(address)}
    if answering:
        dispatcher.utter_message(response="utter_address_not_understood")
        return {"new_address": None}
    return {}


class ActionAskNewPaymentMethodId(Action):
    def name(self) -> str:
        return "action_ask_new_payment_method_id"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        customer = current_customer(tracker)
        order = chosen_order(tracker)
        others = joined(m.describe() for m in customer.payment_methods if m.id != order.original_payment_method_id)
        dispatcher.utter_message(response="utter_ask_new_payment_method", options=others or "none")
        return []


class ActionAskSwapPlan(Action):
    def name(self) -> str:
        return "action_ask_swap_plan"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        order = chosen_order(tracker)
        items = "; ".join(f"{i.name} ({', '.join(f'{k} {v}' for k, v in i.options.items())})" for i in order.items)
        dispatcher.utter_message(response="utter_ask_swap_plan", order_id=order.id, items=items)
        return []


class ActionAskSwapPaymentMethodId(Action):
    def name(self) -> str:
        return "action_ask_swap_payment_method_id"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        customer = current_customer(tracker)
        dispatcher.utter_message(
            response="utter_ask_swap_payment_method", options=joined(m.describe() for m in customer.payment_methods)
        )
        return []


class ActionAskChangeOrderId(Action):
    """Which order? Lists the customer's orders that allow the change."""

    def name(self) -> str:
        return "action_ask_change_order_id"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        kind = BY_FORM.get((tracker.active_loop or {}).get("name"), KINDS["cancel"])
        eligible = eligible_orders(tracker.get_slot("customer_id"), kind)[: settings().max_orders_listed]
        dispatcher.utter_message(
            response="utter_ask_change_order", change=kind.name, order_list=list_orders_text(eligible)
        )
        return [SlotSet("listed_orders", [o.id for o in eligible])]


class ActionAskReturnItemIds(Action):
    def name(self) -> str:
        return "action_ask_return_item_ids"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        order = chosen_order(tracker)
        items = "; ".join(f"{i.name} ({', '.join(i.options.values())}) {money(i.price)}" for i in order.items)
        dispatcher.utter_message(response="utter_ask_return_items", order_id=order.id, items=items)
        return []


class ActionAskRefundMethodId(Action):
    def name(self) -> str:
        return "action_ask_refund_method_id"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        customer = current_customer(tracker)
        order = chosen_order(tracker)
        options = joined(m.describe() for m in refund_destinations(customer, order))
        dispatcher.utter_message(response="utter_ask_refund_method", options=options)
        return []


def change_of(tracker: Tracker) -> ChangeKind | None:
    """The kind of change the running (or last) change form collects."""
    return BY_FORM.get(tracker.get_slot("change_form") or "")


def plan_from_slots(tracker: Tracker) -> Dict[str, Any] | None:
    """The change the form collected, in the form the store call and the proposal use."""
    kind = change_of(tracker)
    return kind.plan({name: tracker.get_slot(name) for name in CHANGE_SLOTS}) if kind else None


def _same_plan(plan: Dict[str, Any] | None, other: Dict[str, Any] | None) -> bool:
    """Equal plans, whatever order their items were named in ("the tablet and the earbuds");
    an exchange's items stay paired with their new versions."""

    def canonical(value: Dict[str, Any] | None) -> Any:
        if not value:
            return value
        fixed = dict(value)
        items = fixed.pop("item_ids", None) or []
        new_items = fixed.pop("new_item_ids", None) or [None] * len(items)
        return fixed, sorted(zip(items, new_items, strict=True), key=json.dumps)

    return canonical(plan) == canonical(other)


def _correcting(tracker: Tracker) -> bool:
    """The form asked what to correct in its rejected proposal (``change_plan`` still holds it)."""
    return tracker.get_slot("requested_slot") == CORRECTION_SLOT


def clear_change() -> EventList:
    return [SlotSet(name, None) for name in (*CHANGE_SLOTS, "change_form", "change_plan", CORRECTION_SLOT)]


class ActionProposeChange(Action):
    """Say exactly what will happen, then wait for a yes (rules handle the answer)."""

    def name(self) -> str:
        return "action_propose_change"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        plan = plan_from_slots(tracker)
        if plan is None:
            dispatcher.utter_message(response="utter_nothing_changed")
            return clear_change()
        kind = kind_of(plan)
        customer = current_customer(tracker)
        order = turn(tracker).order(plan["order_id"]) if kind.about_an_order else None
        products = (
            {i.product_id: turn(tracker).product(i.product_id) for i in order.items} if kind.reads_products else {}
        )
        proposal = kind.propose(plan, ChangeFacts(customer, order, settings().rules, products))
        dispatcher.utter_message(response=proposal.response, **proposal.facts)
        return [SlotSet("change_plan", json.dumps(plan, sort_keys=True)), SlotSet(CORRECTION_SLOT, None)]


class ActionApplyChange(Action):
    """The customer said yes to the proposal just made: write it, once."""

    def name(self) -> str:
        return "action_apply_change"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        raw_plan = tracker.get_slot("change_plan")
        # Only a yes given right after the proposal counts as consent.
        if not raw_plan or previous_bot_action(tracker) != "action_propose_change":
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return clear_change()
        plan = json.loads(raw_plan)
        # The same proposal confirmed twice in a conversation is one request.
        request_id = f"{tracker.sender_id}:{hashlib.sha256(raw_plan.encode()).hexdigest()[:16]}"
        customer_id = tracker.get_slot("customer_id")
        try:
            result = apply_plan(store(), customer_id, plan, tracker.sender_id, request_id)
        except NeedsReview as refused:
            # Outside the automatic rules: an agent decides in the review queue; the customer is told.
            language = tracker.get_slot("language") or "en"
            store().open_ticket(await ticket_draft(tracker, Reason.REFUND_REVIEW, paused=False, acting=self.name()))
            review = store().submit_review(tracker.sender_id, customer_id, plan, refused, language)
            dispatcher.utter_message(response="utter_refund_needs_review", review_id=review.id)
            return [*clear_change(), SlotSet("review_id", float(review.id))]
        except ChangeRefused as refused:
            dispatcher.utter_message(response="utter_change_refused", reason=str(refused))
            return clear_change()
        except ConcurrentChange:
            dispatcher.utter_message(response="utter_change_conflict")
            return clear_change()
        kind = kind_of(plan)
        dispatcher.utter_message(response=kind.applied_response, order_id=result.order.id if result.order else None)
        if kind.suggests_after and result.order is not None:
            suggest_after(dispatcher, tracker, result.order)
        return clear_change()


class ActionReopenChange(Action):
    """A "no" to the proposal: nothing is written, and Kefu asks what should be different.

    The change's form runs again with what it had collected; the customer's answer ("only
    the kettle", "the other order", "to my gift card") replaces what it names, and the form
    proposes again. "Forget it" ends it as a "no" during the form does.
    """

    def name(self) -> str:
        return "action_reopen_change"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        kind = change_of(tracker)
        if kind is None or not tracker.get_slot("change_plan"):
            dispatcher.utter_message(response="utter_nothing_changed")
            return clear_change()
        # The form runs next (its loop is active): it reads the "no" itself ("no, to my gift
        # card" corrects at once) and otherwise asks what should be different.
        return [
            SlotSet(CORRECTION_SLOT, None),
            ActiveLoop(kind.form),
            SlotSet("requested_slot", CORRECTION_SLOT),
        ]


class ActionDropChange(Action):
    def name(self) -> str:
        return "action_drop_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        dispatcher.utter_message(response="utter_nothing_changed")
        return clear_change()


def amount_of_the_proposal(tracker: Tracker) -> EventList | None:
    """ "How much will I get back in total?" while a proposal awaits its yes: the proposal again,
    with its exact figures (a yes after it still confirms it), instead of the general policy."""
    asked = says("how_much", message_in_catalogue_words(tracker).lower())
    if asked and tracker.get_slot("change_plan") and previous_bot_action(tracker) == "action_propose_change":
        return [FollowupAction("action_propose_change")]
    return None


class ActionRefundPolicy(Action):
    """The refund rules, worded from kefu.yml so that the answer follows the configuration."""

    def name(self) -> str:
        return "action_refund_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        proposal = amount_of_the_proposal(tracker)
        if proposal is not None:
            return proposal
        rules = settings().rules
        destinations = {"original": "the original payment method", "gift_card": "a gift card"}
        dispatcher.utter_message(
            response="utter_refund_policy",
            cancel_statuses=" or ".join(rules.cancel_statuses),
            return_statuses=" or ".join(rules.return_statuses),
            refund_to=" or ".join(destinations[d] for d in rules.return_refund_to),
            gift_card_delay=rules.refund_delay_gift_card,
            other_delay=rules.refund_delay_other,
        )
        return []


class ActionRefundStatus(Action):
    """Refunds made and returns waiting, read from the identified customer's orders."""

    def name(self) -> str:
        return "action_refund_status"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        proposal = amount_of_the_proposal(tracker)
        if proposal is not None:
            return proposal
        customer = current_customer(tracker)
        methods = {m.id: m for m in customer.payment_methods}
        rules = settings().rules
        lines = []
        for order in store().customer_orders(customer.id):
            for payment in order.payments:
                if payment.transaction_type == "refund" and payment.amount > 0:
                    method = methods.get(payment.payment_method_id)
                    where = method.describe() if method else payment.payment_method_id
                    lines.append(f"{order.id} ({order.status}): {money(payment.amount)} refunded to your {where}")
            if order.status == rules.return_requested_status:
                lines.append(f"{order.id}: return requested; the refund follows when the items arrive")
            if order.status == rules.exchange_requested_status:
                lines.append(f"{order.id}: exchange requested; waiting for the items to come back")
        if not lines:
            dispatcher.utter_message(response="utter_no_refunds")
            return []
        dispatcher.utter_message(response="utter_refund_status", refunds="\n".join(lines))
        return []
