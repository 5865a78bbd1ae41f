"""The baseline of bench/runtimes.sh, loaded by bare_sanic.py: the iris-onnx example's
handler around the same onnxruntime InferenceSession.run, with nothing else (no input checks,
no tracker, no metrics)."""

import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-onnx"
_spec = importlib.util.spec_from_file_location("iris_onnx_handler", EXAMPLE / "handler.py")
handler = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(handler)
session = ort.InferenceSession(str(EXAMPLE / "models" / "iris.onnx"),
                               providers=["CPUExecutionProvider"])
SIGNATURE = {"input": {"shape": [None, 4], "type": "float32"}}


def predict(sample, metadata):
    row = handler.pre_inference(sample, SIGNATURE, metadata)
    outputs = session.run(None, {"input": np.asarray([row], dtype=np.float32)})
    result = handler.post_inference(outputs, SIGNATURE, metadata)
    return {"label": str(result["label"]), "probabilities": result["probabilities"]}
