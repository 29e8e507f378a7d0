"""Idempotency keys shared by the gateway and the action server.

Both sides may store the same help request for one message (the gateway's
safety net and the action); the same key makes the second write a no-op.
"""


def message_key(purpose: str, sender: str, message_id: str) -> str:
    return f"{purpose}:{sender}:{message_id}"
