"""Jieba tokenizer that also gives every token its toneless pinyin as lemma.

Speech recognisers and elders' typing both produce same-sound character errors
(定餐 for 订餐, 金贴 for 津贴). Rasa's CountVectorsFeaturizer reads `token.lemma`
when `use_lemma: true`, so a featurizer configured that way sees `ding can` for
both spellings while the character featurizers still see the characters.
"""
from __future__ import annotations

from functools import lru_cache
from typing import List, Text

from pypinyin import Style, lazy_pinyin
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


@lru_cache(maxsize=50_000)
def pinyin_of(word: str) -> str:
    """Toneless pinyin syllables joined by '_' (non-Chinese text is kept).

    Cached per token: a word's pinyin does not depend on its sentence here (each token is converted on
    its own), and converting costs ~50 us a token, ~3 % of a turn's CPU in Rasa."""
    return "_".join(lazy_pinyin(word, style=Style.NORMAL, errors="default"))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class PinyinJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer + pinyin lemmas; whitespace tokens (Vosk output) dropped."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = [t for t in super().tokenize(message, attribute) if t.text.strip()]
        if attribute != TEXT:
            return tokens
        for token in tokens:
            token.lemma = pinyin_of(token.text)
        return tokens
