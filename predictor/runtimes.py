"""The ONNX and TensorFlow runtimes: a model file served through optional request handlers.

Each becomes the same `predict(sample, metadata)` callable the Python runtime's inference file
gives, so the server, the runner, the tracker and the HTTP contract are shared:

    sample -> pre_inference(sample, signature, metadata) -> the model -> post_inference(...)

numpy, onnxruntime and tensorflow are imported only by a replica that serves such an API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

from cortex_tui.config.model import ApiSpec
from predictor import model_store
from predictor.batcher import Failed
from predictor.loader import Inference, InitFailure, import_inference
from predictor.logs import describe, log, truncate
from predictor.state import Traced

# onnxruntime's element type names -> numpy dtype names.
_ONNX_TYPES = {
    "float": "float32", "double": "float64", "float16": "float16", "int64": "int64",
    "int32": "int32", "int16": "int16", "int8": "int8", "uint64": "uint64", "uint32": "uint32",
    "uint16": "uint16", "uint8": "uint8", "bool": "bool", "string": "str",
}


class SampleError(ValueError):
    """The sample does not fit the model's inputs: the replica answers 400."""

    status_code = 400


@dataclass(frozen=True)
class ModelInput:
    name: str
    shape: tuple[int | None, ...]
    dtype: str  # numpy dtype name; "str" for string tensors

    def describe(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "type": self.dtype}

    def expected(self) -> str:
        dims = ", ".join("None" if d is None else str(d) for d in self.shape)
        return f"shape [{dims}] {self.dtype}"


def feed(inputs: tuple[ModelInput, ...], sample: Any) -> dict[str, Any]:
    """numpy arrays for the model's inputs, from the sample (SampleError when it does not fit).

    One input takes the sample itself, or `sample[name]` when the sample is an object holding
    that name; several inputs take an object keyed by their names.
    """
    if len(inputs) == 1 and not (isinstance(sample, dict) and inputs[0].name in sample):
        if isinstance(sample, dict):
            raise SampleError(f'input "{inputs[0].name}": missing from the sample object '
                              f"(expected {inputs[0].expected()}, or the value itself)")
        return {inputs[0].name: _array(inputs[0], sample)}
    if not isinstance(sample, dict):
        names = ", ".join(f'"{i.name}"' for i in inputs)
        raise SampleError(f"the model has several inputs: send an object keyed by {names}")
    arrays = {}
    for spec in inputs:
        if spec.name not in sample:
            raise SampleError(f'input "{spec.name}": missing from the sample '
                              f"(expected {spec.expected()})")
        arrays[spec.name] = _array(spec, sample[spec.name])
    return arrays


def _array(spec: ModelInput, value: Any) -> Any:
    import numpy as np

    try:
        if spec.dtype == "str":
            array = np.asarray(value, dtype=object)
            if not all(isinstance(v, str) for v in array.flat):
                raise ValueError("not all values are strings")
        else:
            array = np.asarray(value, dtype=spec.dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise SampleError(f'input "{spec.name}": cannot be read as {spec.dtype} '
                          f"(expected {spec.expected()}): {exc}") from None
    if array.ndim == len(spec.shape) - 1:  # one row: add the batch axis
        array = array[np.newaxis, ...]
    fits = array.ndim == len(spec.shape) and all(
        want is None or want == got for want, got in zip(spec.shape, array.shape, strict=True))
    if not fits:
        raise SampleError(f'input "{spec.name}": expected {spec.expected()} '
                          f"(got shape {list(array.shape)})")
    return array


class OnnxModel:
    def __init__(self, path: Path, gpu: int) -> None:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if gpu > 0 and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        elif gpu > 0:
            log.warning("compute.gpu is %d but this onnxruntime has no CUDA provider (%s): the "
                        "model runs on the CPU; install the GPU build: pip install "
                        "'cortex-tui[gpu]' (see the README)", gpu,
                        ", ".join(ort.get_available_providers()))
        self.session = ort.InferenceSession(str(path), providers=providers)
        self.inputs = tuple(
            ModelInput(i.name, tuple(d if isinstance(d, int) else None for d in i.shape),
                       _ONNX_TYPES.get(i.type.removeprefix("tensor(").rstrip(")"), "float32"))
            for i in self.session.get_inputs()
        )
        self.run_session = self.session.run
        log.info("onnx model %s on %s", path.name, self.session.get_providers()[0])

    def __call__(self, sample: Any) -> Any:
        return self.run_session(None, feed(self.inputs, sample))

    def run(self, arrays: dict[str, Any]) -> list[Any]:
        return self.run_session(None, arrays)


class TensorFlowModel:
    def __init__(self, path: Path, key: str | None) -> None:
        from cortex_tui.config.model_check import pick_signature

        try:
            import tensorflow as tf
        except ImportError:
            raise InitFailure("the tensorflow runtime needs TensorFlow: "
                              "pip install 'cortex-tui[tensorflow]'") from None
        self.tf = tf
        loaded = tf.saved_model.load(str(path))
        self._loaded = loaded  # the signature functions need their object alive
        self.key = pick_signature(dict(loaded.signatures), key)
        self.function = loaded.signatures[self.key]
        specs = self.function.structured_input_signature[1]
        self.inputs = tuple(
            ModelInput(name, tuple(spec.shape.as_list()),
                       "str" if spec.dtype == tf.string else spec.dtype.as_numpy_dtype.__name__)
            for name, spec in sorted(specs.items())
        )
        log.info("tensorflow model %s, signature %s", path.name, self.key)

    def __call__(self, sample: Any) -> dict[str, Any]:
        return self.run(feed(self.inputs, sample))

    def run(self, arrays: dict[str, Any]) -> dict[str, Any]:
        outputs = self.function(**{k: self.tf.constant(v) for k, v in arrays.items()})
        return {name: _plain(tensor.numpy()) for name, tensor in outputs.items()}


def _plain(array: Any) -> Any:
    """String tensors come back as bytes: decode them (numbers stay numpy, shapes kept)."""
    if array.dtype.kind not in "OS":
        return array
    return json.loads(json.dumps(array.tolist(), default=_text))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


Model = OnnxModel | TensorFlowModel


class Pipeline:
    """pre_inference -> model -> post_inference, as one `predict(sample, metadata)`; `batch`
    is the same for a list of samples with one model call (server_side_batching)."""

    def __init__(self, model: Model, signature: dict[str, Any],
                 pre: Callable[..., Any] | None, post: Callable[..., Any] | None) -> None:
        self.model = model
        self.signature = signature
        self.pre = pre
        self.post = post

    def __call__(self, sample: Any, metadata: Any) -> Any:
        debug = type(sample) is Traced
        if debug:
            sample = sample.value
        if self.pre is not None:
            sample = self.pre(sample, self.signature, metadata)
            if debug:
                log.info("debug: pre_inference: %s", _shown(sample))
        prediction = self.model(sample)
        if debug:
            log.info("debug: inference: %s", _shown(prediction))
        if self.post is not None:
            prediction = self.post(prediction, self.signature, metadata)
            if debug:
                log.info("debug: post_inference: %s", _shown(prediction))
        return prediction


    def batch(self, samples: list[Any], metadata: Any) -> list[Any]:
        """One model call for every sample that fits (rows stacked on the batch axis); a sample
        that does not fit, or whose handler raises, fails alone (`Failed`)."""
        import numpy as np

        results: list[Any] = [None] * len(samples)
        rows: list[tuple[int, dict[str, Any], bool]] = []  # (index, arrays, traced)
        for i, sample in enumerate(samples):
            traced = type(sample) is Traced
            value = sample.value if traced else sample
            try:
                if self.pre is not None:
                    value = self.pre(value, self.signature, metadata)
                    if traced:
                        log.info("debug: pre_inference: %s", _shown(value))
                rows.append((i, feed(self.model.inputs, value), traced))
            except Exception as exc:
                results[i] = Failed(exc)
        if rows:
            names = list(rows[0][1])
            try:
                stacked = {n: np.concatenate([arrays[n] for _, arrays, _ in rows]) for n in names}
            except ValueError:  # rows of different shapes (a free non-batch dimension)
                outputs = [self.model.run(arrays) for _, arrays, _ in rows]
            else:
                outputs = _split(self.model.run(stacked),
                                 [len(arrays[names[0]]) for _, arrays, _ in rows])
            for (i, _, traced), prediction in zip(rows, outputs, strict=True):
                results[i] = self._finish(prediction, traced, metadata)
        return results

    def _finish(self, prediction: Any, traced: bool, metadata: Any) -> Any:
        if traced:
            log.info("debug: inference: %s", _shown(prediction))
        if self.post is None:
            return prediction
        try:
            prediction = self.post(prediction, self.signature, metadata)
        except Exception as exc:
            return Failed(exc)
        if traced:
            log.info("debug: post_inference: %s", _shown(prediction))
        return prediction


def _split(outputs: Any, sizes: list[int]) -> list[Any]:
    """A batch's outputs (a list or a dict of per-row arrays / lists) cut back into each
    sample's rows."""
    spans = list(pairwise(accumulate(sizes, initial=0)))
    if isinstance(outputs, dict):
        return [{k: v[a:b] for k, v in outputs.items()} for a, b in spans]
    return [[v[a:b] for v in outputs] for a, b in spans]


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else repr(v))
    except (TypeError, ValueError):
        text = repr(value)
    return truncate(text)


def _handler(root: Path, relative: str | None) -> tuple[Any, Any]:
    """pre_inference and post_inference of the request handler file (None when absent)."""
    if relative is None:
        return None, None
    module = import_inference(root, relative)
    found = []
    for name in ("pre_inference", "post_inference"):
        fn = getattr(module, name, None)
        if fn is not None and not callable(fn):
            raise InitFailure(f"{relative}: {name} is not a function")
        found.append(fn)
    return found[0], found[1]


def prepare_runtime(root: Path, spec: ApiSpec) -> Inference:
    """Load the API's model and request handler; InitFailure with one clear line."""
    assert spec.model is not None
    path = model_store.local_model(root, spec.model, spec.runtime)
    pre, post = _handler(root, spec.request_handler)
    try:
        model: OnnxModel | TensorFlowModel
        if spec.runtime == "onnx":
            model = OnnxModel(path, spec.compute.gpu)
        else:
            model = TensorFlowModel(path, spec.signature_key)
    except InitFailure:
        raise
    except Exception as exc:
        raise InitFailure(f"{spec.model}: the {spec.runtime} model cannot be loaded: "
                          f"{describe(exc)}") from exc
    signature = {i.name: i.describe() for i in model.inputs}
    pipeline = Pipeline(model, signature, pre, post)
    predict = pipeline if spec.batching is None else pipeline.batch
    return Inference(predict, False, None, signature)
