"""Entities from our lookup tables and regexes, with no inline annotations needed.

Rasa 3.6's RegexEntityExtractor only uses a lookup table or regex whose name is
also annotated inline in some training example (`use_only_entities=True` is
fixed in its `train`). Our entities (date, meal, portions …) come from
`nlu_data/train/lookups.yml` alone, and the action server normalises their
values with zhtext, so we train the same extractor on every pattern.
"""
from __future__ import annotations

import rasa.nlu.utils.pattern_utils as pattern_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class LookupEntityExtractor(RegexEntityExtractor):
    def train(self, training_data: TrainingData) -> Resource:
        self.patterns = pattern_utils.extract_patterns(
            training_data,
            use_lookup_tables=self._config["use_lookup_tables"],
            use_regexes=self._config["use_regexes"],
            use_only_entities=False,
            use_word_boundaries=self._config["use_word_boundaries"],
        )
        if not self.patterns:
            raise ValueError("no lookup tables or regexes in the training data")
        self.persist()
        return self._resource
