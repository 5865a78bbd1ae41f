"""Small ONNX models written with onnx.helper, for tests of the onnx runtime."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

OPSET = [helper.make_opsetid("", 17)]


def write_two_inputs(path: Path) -> Path:
    """sum = a + cast(b, float): a is float32 [batch, 2], b is int64 [batch, 2]."""
    graph = helper.make_graph(
        [helper.make_node("Cast", ["b"], ["b_float"], to=TensorProto.FLOAT),
         helper.make_node("Add", ["a", "b_float"], ["sum"])],
        "two_inputs",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 2]),
         helper.make_tensor_value_info("b", TensorProto.INT64, ["batch", 2])],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 2])],
    )
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    return path
