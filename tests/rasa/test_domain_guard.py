"""The domain guard: a booking of a ticket, a room or a car never starts the meal form.

Three levels, all with the Rasa we pin (.venv-rasa):
- the word rule on its own (characters and recogniser slips, meals left alone);
- the graph component as Rasa builds it, on real `Message`s, and the recipe turning
  bot/config.yml into a graph with the guard right before the emergency override;
- the trained model (bot/models/yinling.tar.gz, `make train`): parse results and the
  next action the rules choose after such a booking.
"""
from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
MODEL = BOT / "models" / "yinling.tar.gz"
sys.path.insert(0, str(BOT))

from components.domain_guard import DomainGuard, non_meal_booking  # noqa: E402

NOT_MEALS = [
    "帮我订张去太原的火车票",
    "订个机票",
    "帮我订个酒店",
    "订个车",
    "帮我挂个号",
    "挂个明天的号 看眼睛",
    "给我订两张去北京的",
    "订一张明天早上的火车票",  # 早上 is a time, not a meal
    "帮我在太原订个宾馆",
    "给我叫辆出租车",
    "帮我约个网约车 去医院",
    "给俺叫个滴滴",
    "订个包车 去五台山",
    "订 个 高 铁 票",  # Vosk's spaces
    "订个火扯票",  # recogniser slips, same sound
    "订 个 鸡 飘",
    "帮我定个九店",
]
MEALS = [
    "帮我订一份午饭",
    "明天中午订两份",
    "订张饭票",
    "订个车送饭",
    "明儿个晌午饭给俺订上",
    "黑夜饭订一份",
    "明天九点订一份",  # 九点 jiu3 dian3 is not 酒店 jiu3 dian4
    "给我弟弟订明天的",  # 弟弟 di4 di is not 滴滴
    "那我挂了 明天五号再说",
    "后天晌午两个人",
    "订饭",
]


@pytest.mark.parametrize("text", NOT_MEALS)
def test_non_meal_bookings_are_recognised(text):
    assert non_meal_booking(text)


@pytest.mark.parametrize("text", MEALS)
def test_meal_bookings_are_left_alone(text):
    assert non_meal_booking(text) is None


@pytest.fixture
def guard(tmp_path):
    schema = GraphSchema({})
    return DomainGuard.create(
        DomainGuard.get_default_config(), LocalModelStorage(tmp_path), Resource("domain_guard"),
        ExecutionContext(schema, "test-model"),
    )


def message(text, intent, confidence=0.9, ranking=None):
    m = Message(data={TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, ranking or [{"name": intent, "confidence": confidence}])
    return m


def test_book_meal_for_a_ticket_becomes_out_of_scope(guard):
    ranking = [{"name": "book_meal", "confidence": 0.88}, {"name": "out_of_scope", "confidence": 0.1},
               {"name": "ask_menu", "confidence": 0.02}]
    [m] = guard.process([message("订个机票", "book_meal", 0.88, ranking)])
    assert m.get(INTENT)["name"] == "out_of_scope"
    assert m.get(INTENT)["confidence"] >= 0.88
    names = [r["name"] for r in m.get(INTENT_RANKING_KEY)]
    assert names[0] == "out_of_scope" and names.count("out_of_scope") == 1 and "book_meal" in names
    assert m.get("domain_guard") == {"words": "票", "classifier_intent": "book_meal"}
    assert "domain_guard" in m.as_dict(only_output_properties=True)


def test_a_fallback_over_a_book_meal_guess_becomes_out_of_scope(guard):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "book_meal", "confidence": 0.4},
               {"name": "out_of_scope", "confidence": 0.3}]
    [m] = guard.process([message("帮我订个宾馆", "nlu_fallback", 0.45, ranking)])
    assert m.get(INTENT)["name"] == "out_of_scope"
    assert [r["name"] for r in m.get(INTENT_RANKING_KEY)][:2] == ["out_of_scope", "book_meal"]


def test_meals_and_other_intents_are_untouched(guard):
    meal = message("明天中午订两份饭", "book_meal")
    other = message("火车站附近有驿站不", "find_service")
    fallback = message("火车票", "nlu_fallback", 0.45,
                       [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "ask_menu", "confidence": 0.3}])
    out = guard.process([meal, other, fallback])
    assert [m.get(INTENT)["name"] for m in out] == ["book_meal", "find_service", "nlu_fallback"]
    assert all(m.get("domain_guard") is None for m in out)


def test_config_puts_the_guard_right_before_the_emergency_override_and_rasa_builds_it():
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    config = yaml.safe_load((BOT / "config.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    i = names.index("components.domain_guard.DomainGuard")
    assert names[i + 1] == "components.emergency_override.EmergencyIntentOverride"
    assert names.index("FallbackClassifier") < i
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {})
    nodes = graph.predict_schema.nodes
    guard_nodes = [n for n, node in nodes.items() if node.uses is DomainGuard]
    assert len(guard_nodes) == 1
    override = [n for n, node in nodes.items() if node.uses.__name__ == "EmergencyIntentOverride"]
    assert nodes[override[0]].needs == {"messages": guard_nodes[0]}


# --------------------------------------------------------------------------- the trained model


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


def _run(coro):
    return asyncio.get_event_loop_policy().new_event_loop().run_until_complete(coro)


def test_the_trained_model_runs_the_guard_before_the_emergency_override(agent):
    nodes = agent.processor.model_metadata.predict_schema.nodes
    [guard] = [n for n, node in nodes.items() if node.uses is DomainGuard]
    [override] = [n for n, node in nodes.items() if node.uses.__name__ == "EmergencyIntentOverride"]
    assert nodes[override].needs == {"messages": guard}


@pytest.mark.parametrize("text", ["帮我订张去太原的火车票", "订个机票", "帮我订个酒店", "订个车",
                                  "帮我挂个号", "订 两 张 去 北 京 的 高 铁 票", "给我约个出租车",
                                  "订一张明天的"])
def test_the_trained_model_never_starts_the_meal_form_for_a_ticket(agent, text):
    async def turn():
        from rasa.core.channels.channel import UserMessage

        sender = f"guard-{uuid.uuid4().hex[:8]}"
        tracker = await agent.log_message(UserMessage(text, sender_id=sender))
        prediction = await agent.predict_next_for_sender_id(sender)
        return tracker.latest_message.parse_data, prediction

    parse, prediction = _run(turn())
    assert parse["intent"]["name"] == "out_of_scope", parse
    best = max(prediction["scores"], key=lambda s: s["score"])["action"]
    assert best != "meal_order_form", prediction["scores"][:3]
    assert best in ("action_out_of_scope", "utter_out_of_scope")


@pytest.mark.parametrize("text", ["明天中午给我订一份饭", "明儿个晌午饭订两份", "订个饭送到家"])
def test_the_trained_model_still_books_meals(agent, text):
    parse = _run(agent.parse_message(text))
    assert parse["intent"]["name"] == "book_meal", parse
    assert "domain_guard" not in parse
