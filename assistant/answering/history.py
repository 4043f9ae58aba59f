"""Conversation history as callers hand it over: plain strings, or chat messages whose content is a string or a
list of parts (``[{"type": "text", "text": ...}]``, as Gradio and OpenAI-style clients send)."""

from __future__ import annotations


def message_text(message) -> str | None:
    """The text of one message, or None when it has none."""
    if isinstance(message, str):
        return message
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
        return "\n".join(part for part in parts if part) or None
    return None


def user_questions(history: list | None) -> list[str]:
    """The user's earlier questions, oldest first (a plain string counts as a user turn)."""
    questions = []
    for turn in history or []:
        if isinstance(turn, str) or (isinstance(turn, dict) and turn.get("role") == "user"):
            text = message_text(turn)
            if text:
                questions.append(text)
    return questions


def chat_messages(history: list | None, last: int = 6) -> list[dict]:
    """The last turns as {"role", "content": str} messages, for a chat model."""
    messages = []
    for turn in history or []:
        role = "user" if isinstance(turn, str) else turn.get("role") if isinstance(turn, dict) else None
        text = message_text(turn)
        if role in ("user", "assistant") and text:
            messages.append({"role": role, "content": text})
    return messages[-last:]
