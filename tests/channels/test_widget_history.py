"""The conversation the widget shows after a reload or a reconnect, read from Rasa's events."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SlotSet, UserUttered

from kefu.channels.history import widget_history

YES_NO = [{"title": "Yes, go ahead", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def test_the_customer_sees_their_words_kefus_paragraphs_and_the_agents_marked() -> None:
    events = [
        UserUttered("where is my order?", metadata={"client_message_id": "m1"}),
        ActionExecuted("action_order_status"),
        SlotSet("customer_id", "juan_rossi_6696"),
        BotUttered("Order #W7602708 is pending.\n\nAnything else?"),
        BotUttered("Alice here, I'm on it.", metadata={"agent": "Alice"}),
    ]
    assert [(m["author"], m["text"], m.get("id"), m.get("agent")) for m in widget_history(events)] == [
        ("customer", "where is my order?", "m1", None),
        ("bot", "Order #W7602708 is pending.", None, None),
        ("bot", "Anything else?", None, None),
        ("agent", "Alice here, I'm on it.", None, "Alice"),
    ]


def test_a_clicked_button_shows_its_title_and_only_the_open_question_keeps_buttons() -> None:
    events = [
        BotUttered("Shall I go ahead?", data={"buttons": YES_NO}),
        UserUttered("/affirm"),
        BotUttered("Done.", data={"buttons": []}),
        BotUttered("Would you like a person?", data={"buttons": YES_NO}),
    ]
    history = widget_history(events)
    assert [m["text"] for m in history] == ["Shall I go ahead?", "Yes, go ahead", "Done.", "Would you like a person?"]
    assert [bool(m.get("buttons")) for m in history] == [False, False, False, True]
    assert history[-1]["buttons"] == YES_NO


def test_a_restart_starts_the_shown_conversation_again_and_history_is_bounded() -> None:
    events = [UserUttered("old question"), BotUttered("old answer"), Restarted()]
    events += [UserUttered(f"message {n}") for n in range(250)]
    history = widget_history(events, limit=200)
    assert len(history) == 200 and history[0]["text"] == "message 50" and history[-1]["text"] == "message 249"


def test_ids_that_are_not_the_widgets_are_left_out() -> None:
    events = [
        UserUttered("a", metadata={"client_message_id": "x" * 65}),
        UserUttered("b", metadata={"client_message_id": 7}),
    ]
    assert [m.get("id") for m in widget_history(events)] == [None, None]
