"""The keypad fallback, as on a 12349 line: 1 meals, 2 subsidies, 0 operator, 9 emergency, * repeat.

Digits that stand for something the elder could also say become the words they stand for, so the
dialogue (and its confirmations) is the same whichever way the elder chose.
"""
from __future__ import annotations

from dataclasses import dataclass

MENU = "您可以直接说要办的事。也可以按键：订饭按1，问补贴按2，找人工按0，紧急求助按9，再听一遍按星号。"


@dataclass(frozen=True)
class KeyAction:
    kind: str  # say / operator / emergency / repeat / menu
    text: str = ""


KEYPAD = {
    "1": KeyAction("say", "我要订饭"),
    "2": KeyAction("say", "我想问问补贴"),
    "0": KeyAction("operator", "转人工"),
    "9": KeyAction("emergency", "电话按键紧急求助"),
    "*": KeyAction("repeat"),
}


def key_action(digit: str) -> KeyAction:
    """Any other key reads the menu again: an elder who pressed something wrong is not left guessing."""
    return KEYPAD.get(digit, KeyAction("menu"))


def choice_prompt(names: list[str]) -> str:
    """'为哪位老人办事？王秀英按1，李桂兰按2。' (a family member linked to several elders)."""
    options = "，".join(f"{name}按{i}" for i, name in enumerate(names, 1))
    return f"请问您要为哪位老人办事？可以说老人的名字，或者按键：{options}。"
