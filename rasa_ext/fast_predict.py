"""Call DIET's traced prediction graph without tf.function's per-call dispatch.

Rasa wraps `predict_step` in a `tf.function` with a dynamic input signature, so
the function is traced once and every later call runs the same concrete
function. Each call still pays tf.function's dispatch (canonicalising the
inputs, rebuilding the type key, looking up the cache): about 12 % of a turn
on our 2-core machines, three times the cost of running the graph itself.

Once the tf.function exists we keep its one concrete function and call it with
the inputs converted to tensors. That is the same graph with the same inputs,
so the outputs are bit-identical. Inputs the signature would not accept (another
structure, dtype or shape) take Rasa's own path, which raises as before.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from rasa_ext.monkey import replace


@dataclass(frozen=True)
class _ConcreteCall:
    """The traced graph of one tf.function and the input layout it accepts."""

    function: Any  # the tf.function the concrete function came from
    concrete: Any
    dtypes: Tuple[np.dtype, ...]
    shapes: Tuple[Tuple[Optional[int], ...], ...]

    @classmethod
    def of(cls, function: Any) -> Optional["_ConcreteCall"]:
        import tensorflow as tf

        specs = tf.nest.flatten(function.input_signature, expand_composites=True)
        if not all(isinstance(spec, tf.TensorSpec) and spec.shape.rank is not None for spec in specs):
            return None
        return cls(
            function=function,
            concrete=function.get_concrete_function(),
            dtypes=tuple(np.dtype(spec.dtype.as_numpy_dtype) for spec in specs),
            shapes=tuple(tuple(spec.shape.as_list()) for spec in specs),
        )

    def accepts(self, batch_in: Sequence[Any]) -> bool:
        """True for exactly the numpy inputs the signature accepts as they are."""
        if not isinstance(batch_in, (tuple, list)) or len(batch_in) != len(self.dtypes):
            return False
        for value, dtype, shape in zip(batch_in, self.dtypes, self.shapes, strict=True):
            # Rasa's FeatureArray is an ndarray subclass, converted as an ndarray
            if not isinstance(value, np.ndarray) or value.dtype != dtype or len(value.shape) != len(shape):
                return False
            if any(want is not None and want != got for want, got in zip(shape, value.shape, strict=True)):
                return False
        return True

    def __call__(self, batch_in: Sequence[np.ndarray]) -> Dict[str, Any]:
        import tensorflow as tf

        # what tf.function's input casting does for an ndarray already of the signature's
        # dtype (`accepts` checked it); naming the dtype again would only cost a lookup
        tensors = [tf.constant(value) for value in batch_in]
        return self.concrete._call_flat(tensors, captured_inputs=self.concrete.captured_inputs)


# per model, so a model that is dropped (a new model loaded) takes its graph with it
_CALLS: "weakref.WeakKeyDictionary[Any, _ConcreteCall]" = weakref.WeakKeyDictionary()


def _cached_call(model: Any) -> Optional[_ConcreteCall]:
    function = model._tf_predict_step
    if function is None or model._run_eagerly or not model.prepared_for_prediction:
        return None
    call = _CALLS.get(model)
    if call is None or call.function is not function:
        call = _ConcreteCall.of(function)
        if call is None:
            return None
        _CALLS[model] = call
    return call


def patch_tf_predict_dispatch() -> None:
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow import models
    from rasa.utils.tensorflow.models import RasaModel

    original: Callable[..., Dict[str, Any]] = RasaModel._rasa_predict

    def _rasa_predict(self: RasaModel, batch_in: Tuple[np.ndarray, ...]) -> Dict[str, Any]:
        call = _cached_call(self)
        if call is None or not call.accepts(batch_in):
            # first call (Rasa traces the graph), eager mode or unusual inputs
            return original(self, batch_in)
        self._training = False  # as Rasa sets it on every call
        outputs = models.tf_utils.sync_to_numpy_or_python_type(call(batch_in))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    replace(RasaModel, "_rasa_predict", _rasa_predict)
