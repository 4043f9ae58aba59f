"""Conversation history in the shapes callers send it."""

from __future__ import annotations

from assistant.answering.history import chat_messages, user_questions


def test_user_questions_from_strings_and_both_message_shapes():
    history = [
        "Qu'est-ce que FP21 ?",
        {"role": "assistant", "content": "Une association."},
        {"role": "user", "content": [{"type": "text", "text": "Et le Forum des Jeunes ?"}]},
        {"role": "user", "content": [{"type": "file", "file": {"path": "x.pdf"}}]},
        {"role": "user", "content": "Combien de membres ?"},
    ]
    assert user_questions(history) == ["Qu'est-ce que FP21 ?", "Et le Forum des Jeunes ?", "Combien de membres ?"]


def test_chat_messages_keep_roles_text_and_the_last_turns_only():
    history = [{"role": "user", "content": f"q{i}"} for i in range(10)]
    history.append({"role": "assistant", "content": [{"type": "text", "text": "r"}]})
    history.append({"role": "system", "content": "ignore me"})
    messages = chat_messages(history, last=3)
    assert messages == [
        {"role": "user", "content": "q8"},
        {"role": "user", "content": "q9"},
        {"role": "assistant", "content": "r"},
    ]
