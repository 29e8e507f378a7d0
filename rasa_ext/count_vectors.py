"""Count a message's n-grams straight into the COO matrices Rasa keeps.

For each message CountVectorsFeaturizer calls scikit-learn's `transform` twice
per featurizer (once per token, once for the whole sentence), which counts the
n-grams into a CSR matrix, validates it, sorts it, and Rasa then converts it to
COO, validated again. For one short message the counting is the cheap part:
the three featurizers cost about 9 % of a turn, mostly in scipy's checks.

We count with the vectorizer's own analyzer and vocabulary exactly as
`CountVectorizer._count_vocab` does, and lay the counts out as `tocoo()` of the
sorted CSR matrix would (row by row, columns ascending, the vectorizer's dtype,
1 for binary vectorizers). Anything but a fitted, plain CountVectorizer takes
Rasa's own path.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse

from rasa_ext.monkey import replace
from rasa_ext.sparse import trusted_coo

Matrices = Tuple[List[Optional[scipy.sparse.coo_matrix]], List[Optional[scipy.sparse.coo_matrix]]]


def _counts(vectorizer: Any, documents: Sequence[Text]) -> scipy.sparse.coo_matrix:
    """`vectorizer.transform(documents).tocoo()` for a fitted CountVectorizer."""
    vocabulary: Dict[Text, int] = vectorizer.vocabulary_
    analyze = vectorizer.build_analyzer()
    rows: List[int] = []
    columns: List[int] = []
    counts: List[int] = []
    for row, document in enumerate(documents):
        counter: Dict[int, int] = {}
        for feature in analyze(document):
            index = vocabulary.get(feature)
            if index is not None:  # out-of-vocabulary n-grams are dropped, as sklearn does
                counter[index] = counter.get(index, 0) + 1
        for index in sorted(counter):  # CSR's sort_indices
            rows.append(row)
            columns.append(index)
            counts.append(counter[index])
    data = np.asarray(counts, dtype=vectorizer.dtype)
    if vectorizer.binary:
        data.fill(1)
    # in range: rows count the documents, a fitted vocabulary maps onto 0 … len - 1
    return trusted_coo(
        data,
        np.asarray(rows, dtype=np.int32),
        np.asarray(columns, dtype=np.int32),
        (len(documents), len(vocabulary)),
    )


def _countable(vectorizer: Any) -> bool:
    from sklearn.feature_extraction.text import CountVectorizer

    vocabulary = getattr(vectorizer, "vocabulary_", None)
    return type(vectorizer) is CountVectorizer and isinstance(vocabulary, dict) and len(vocabulary) > 0


def patch_count_vectors() -> None:
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

    original: Callable[..., Matrices] = CountVectorsFeaturizer._create_features

    def _create_features(self: CountVectorsFeaturizer, attribute: Text, all_tokens: List[List[Text]]) -> Matrices:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or not _countable(vectorizer):
            return original(self, attribute, all_tokens)
        sequence_features: List[Optional[scipy.sparse.coo_matrix]] = []
        sentence_features: List[Optional[scipy.sparse.coo_matrix]] = []
        for tokens in all_tokens:
            if not tokens:
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            sequence_features.append(_counts(vectorizer, tokens))
            sentence_features.append(
                _counts(vectorizer, [" ".join(tokens)]) if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None
            )
        return sequence_features, sentence_features

    replace(CountVectorsFeaturizer, "_create_features", _create_features)
