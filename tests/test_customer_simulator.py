"""The scripted customer of the whole-task scenarios: what it asks for and how it says it."""

from __future__ import annotations

import re
from collections import Counter

from kefu.evaluation.customer_simulator import WRITES, Played, play, script_for
from kefu.evaluation.task_runs import Outcome, playable, summary
from kefu.evaluation.tasks import shared_tasks
from kefu.store.seed import read_seed

KIND_OF_CALL = {
    "cancel_pending_order": "cancel",
    "return_delivered_order_items": "return",
    "exchange_delivered_order_items": "exchange",
    "modify_pending_order_items": "modify_items",
    "modify_pending_order_address": "order_address",
    "modify_pending_order_payment": "order_payment",
}


def test_every_shared_task_is_playable_with_its_writes_in_order() -> None:
    seed = read_seed()
    tasks = shared_tasks()
    chosen = playable(tasks, seed)
    assert len(chosen) == len(tasks) == 520
    for item in chosen:
        calls = [KIND_OF_CALL[c["name"]] for c in item.task["actions"] if c["name"] in WRITES]
        assert item.script.kinds == (calls or ["keep"]), item.source
        assert [r.order_id for r in item.script.requests if r.kind != "keep"] == [
            c["kwargs"]["order_id"] for c in item.task["actions"] if c["name"] in WRITES
        ]


def test_the_customer_never_says_the_shops_ids() -> None:
    """Items by name, cards by brand and digits: a customer does not know item or method ids."""
    seed = read_seed()
    for item in playable(shared_tasks(), seed):
        for request in item.script.requests:
            said = " ".join(
                [request.opening(True), request.swaps, request.current, request.payment_words, *request.items]
            )
            assert not re.search(r"\b\d{10}\b|credit_card_|gift_card_|paypal_", said), (item.source, said)


def test_an_exchange_for_the_same_version_and_options_that_change() -> None:
    seed = read_seed()
    task = {
        "user_id": "emma_kovacs_5477",
        "instruction": "Your name is Emma Kovacs and your email is emma.kovacs5723@example.com.",
        "actions": [
            {
                "name": "modify_pending_order_items",
                "kwargs": {
                    "order_id": "#W7109609",
                    "item_ids": ["9805150490", "4806644905"],
                    "new_item_ids": ["7493556126", "4806644905"],
                    "payment_method_id": "gift_card_9246707",
                },
            }
        ],
    }
    script = script_for(task, seed)
    assert script is not None
    (request,) = script.requests
    # Only what differs from the current headphones, and the vacuum cleaner as it is.
    assert request.swaps == (
        "the headphones with type over-ear, color black and the vacuum cleaner for a new one exactly like it"
    )
    assert request.current.startswith("the headphones that is now on-ear, wireless, white")
    assert request.payment_words == "my gift card"
    assert (
        script.identity
        == "emma.kovacs5723@example.com, zip code " + seed["users"]["emma_kovacs_5477"]["address"]["zip"]
    )


def test_each_request_is_asked_after_the_previous_one_settles() -> None:
    seed = read_seed()
    task = next(t for t in shared_tasks() if len([c for c in t["actions"] if c["name"] in WRITES]) == 3)
    script = script_for(task, seed)
    assert script is not None
    kefu = iter(
        [
            "Before I look at your orders, please tell me your email address and zip code.",
            "Why would you like to cancel it?",
            "Here is what I'll do ... Shall I go ahead? (yes / no)",
            "Done: order #W1 is cancelled.",
        ]
        + ["I couldn't make that change: it is gone. Nothing was changed."] * 2
    )
    played = play(script, lambda text: next(kefu))
    assert isinstance(played, Played)
    assert len(played.endings) == 3
    openings = [line for line in played.transcript if " also " in line]
    assert len(openings) == 2  # the second and third requests, each once


def test_the_report_counts_each_kind_a_task_asks_for() -> None:
    outcomes = [
        Outcome("a", ["cancel", "return"], 2, True, 1.0),
        Outcome(
            "b",
            ["cancel"],
            1,
            False,
            1.0,
            [{"kind": "cancel", "order": "#W1", "what": "nothing written", "kefu_said": "Which order? #W1"}],
        ),
    ]
    facts = summary(outcomes)
    assert facts["all"] == {"passed": 1, "tasks": 2, "share": 0.5}
    assert facts["by_kind"]["cancel"]["tasks"] == 2 and facts["by_kind"]["return"]["share"] == 1.0
    assert facts["by_writes"]["2"]["passed"] == 1
    assert Counter(dict(facts["causes"])) == Counter({"cancel: nothing written | Kefu: Which order? #": 1})


def test_a_gold_call_the_rules_refuse_changes_nothing_and_the_others_still_apply() -> None:
    from kefu.evaluation.reference_world import apply_calls

    seed = read_seed()
    task = shared_tasks()[24]  # pays #W7602708 with a gift card whose balance is too low, then changes an item
    refused, changed = task["actions"]
    assert refused["name"] == "modify_pending_order_payment"
    after = apply_calls(seed, task["actions"])
    assert after == apply_calls(seed, [changed])
    assert after["orders"]["#W7602708"] != seed["orders"]["#W7602708"]


def test_detours_leave_what_the_customer_ends_up_asking_for_unchanged() -> None:
    """A customer who names one item too many takes it back at the proposal, then says yes."""
    seed = read_seed()
    chosen = playable(shared_tasks(), seed)
    item = next(c for c in chosen if c.script.requests[0].extra_item and not c.script.requests[0].without_order_number)
    request = item.script.requests[0]
    extra = request.extra_item.removeprefix("the ").title()
    kefu = iter(
        [
            "Before I look at your orders I need your email address and zip code.",
            "Which items of order #W1 would you like to return?",
            "Where should the refund go?",
            f"Here is what I'll do: request a return of {extra} and more. Shall I go ahead? (yes / no)",
            "Here is what I'll do: request a return of the rest. Shall I go ahead? (yes / no)",
            "Here is what I'll do: request a return of the rest. Shall I go ahead? (yes / no)",
            "Done: the return for order #W1 is requested.",
        ]
        + ["Done: nothing else."] * 20
    )
    said = [line for line in play(item.script, lambda text: next(kefu)).transcript if line.startswith("customer:")]
    assert request.extra_item in said[2]  # the items, one too many
    assert said[4].startswith("customer: Actually, not " + request.extra_item)
    assert said[-1].endswith("yes, go ahead") or any("yes, go ahead" in line for line in said[5:])


def test_some_customers_are_refused_first_and_some_ask_before_deciding() -> None:
    chosen = playable(shared_tasks(), read_seed())
    refused = [c for c in chosen if c.script.refused_first]
    asking = [c for c in chosen if any(r.question for r in c.script.requests)]
    assert len(refused) >= 15 and len(asking) >= 30
    for item in refused:
        assert item.script.refused_first not in {r.order_id for r in item.script.requests}
