"""Checks of an ONNX or TensorFlow API's model, without running it.

An `.onnx` file is parsed with the `onnx` package (its graph's inputs, not a session). A
TensorFlow SavedModel is checked for `saved_model.pb` and `variables/`; its signatures are read
from `saved_model.pb` with a small protobuf wire-format reader, because TensorFlow itself is
an optional extra (and takes seconds to import: the TUI validates on every keystroke).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cortex_tui.config.model import S3_PREFIX

S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+")
# Inputs by name: {"shape": [dims, None when unknown], "type": numpy dtype name}.
Signature = dict[str, dict[str, Any]]
SAVED_MODEL_FILE = "saved_model.pb"
VARIABLES_DIR = "variables"
DEFAULT_SIGNATURE_KEYS = ("serving_default", "predict")
_cache: dict[tuple[str, int, int], Any] = {}


class ModelProblem(Exception):
    """The model cannot serve; `str(exc)` says why in plain words."""


class SignatureProblem(ModelProblem):
    """The signature_key is not in the model, or one must be chosen."""


def is_s3(value: str) -> bool:
    return value.startswith(S3_PREFIX)


def check_s3_url(value: str) -> str | None:
    """Why an s3:// model URL is malformed, or None."""
    if S3_URL.fullmatch(value) is None:
        return f"must be s3://BUCKET/KEY with a valid bucket name (got {value!r})"
    return None


def _cached(path: Path, read: Any) -> Any:
    """`read(path)`, remembered while the file's size and mtime stay the same."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        if len(_cache) > 64:
            _cache.clear()
        try:
            _cache[key] = read(path)
        except ModelProblem as exc:
            _cache[key] = exc
    found = _cache[key]
    if isinstance(found, ModelProblem):
        raise found
    return found


# -- ONNX -----------------------------------------------------------------------------------


def onnx_signature(path: Path) -> tuple[Signature, list[str]]:
    """The model's inputs and output names; ModelProblem when it is not a readable ONNX."""
    return _cached(path, _read_onnx)


def _read_onnx(path: Path) -> tuple[Signature, list[str]]:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError, RuntimeError) as exc:
        raise ModelProblem(f"is not an ONNX model: {exc or type(exc).__name__}") from None
    graph = model.graph
    if not graph.output:
        raise ModelProblem("is not an ONNX model: its graph has no outputs")
    weights = {init.name for init in graph.initializer}
    inputs: Signature = {}
    for value in graph.input:
        if value.name in weights:
            continue
        inputs[value.name] = _onnx_input(value)
    return inputs, [out.name for out in graph.output]


def _onnx_input(value: Any) -> dict[str, Any]:
    import onnx

    tensor = value.type.tensor_type
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
    except (KeyError, ValueError, TypeError):
        dtype = "unknown"
    shape: list[int | None] = []
    for dim in tensor.shape.dim:
        shape.append(dim.dim_value if dim.HasField("dim_value") else None)
    return {"shape": shape, "type": dtype}


# -- TensorFlow SavedModel --------------------------------------------------------------------


def saved_model_dir(path: Path) -> Path:
    """The SavedModel folder itself: `path`, or its highest numbered version folder."""
    versions = [p for p in path.iterdir() if p.is_dir() and p.name.isdigit()]
    if not (path / SAVED_MODEL_FILE).exists() and versions:
        return max(versions, key=lambda p: int(p.name))
    return path


def tensorflow_signatures(path: Path) -> dict[str, Signature]:
    """Signature keys with their inputs, read from a SavedModel folder or .zip."""
    if path.is_dir():
        folder = saved_model_dir(path)
        missing = [name for name in (SAVED_MODEL_FILE, VARIABLES_DIR)
                   if not (folder / name).exists()]
        if missing:
            shown = " and ".join(f"{m}/" if m == VARIABLES_DIR else m for m in missing)
            raise ModelProblem(f"is not a TensorFlow SavedModel: {shown} missing in {folder.name}/"
                               " (a SavedModel folder, a parent of numbered versions, or a .zip)")
        return _cached(folder / SAVED_MODEL_FILE, lambda p: _signatures(p.read_bytes()))
    if path.suffix != ".zip":
        raise ModelProblem("must be a SavedModel folder, a parent of numbered versions, or a "
                           ".zip of one")
    return _cached(path, _zip_signatures)


def _zip_signatures(path: Path) -> dict[str, Signature]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pb = zip_saved_model(names)
            return _signatures(archive.read(pb))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelProblem(f"is not a readable .zip: {exc}") from None


def zip_saved_model(names: list[str]) -> str:
    """The saved_model.pb member of a zipped SavedModel (at its root or one folder down)."""
    for name in sorted(names, key=lambda n: n.count("/")):
        parts = name.split("/")
        if parts[-1] == SAVED_MODEL_FILE and len(parts) <= 2:
            prefix = name[: -len(SAVED_MODEL_FILE)]
            if any(n.startswith(prefix + VARIABLES_DIR + "/") for n in names):
                return name
    raise ModelProblem("is not a zipped TensorFlow SavedModel: saved_model.pb and variables/ "
                       "must be at its root or in one folder")


def pick_signature(signatures: dict[str, Any], key: str | None) -> str:
    """The signature to serve: `key`, the only one, or serving_default / predict."""
    if key is not None:
        if key not in signatures:
            raise SignatureProblem(f"signature {key!r} not in the model (it has: "
                               f"{', '.join(sorted(signatures)) or 'none'})")
        return key
    if len(signatures) == 1:
        return next(iter(signatures))
    for default in DEFAULT_SIGNATURE_KEYS:
        if default in signatures:
            return default
    raise SignatureProblem(f"the model has several signatures ({', '.join(sorted(signatures))}): "
                       "choose one with tensorflow.signature_key")


# TensorFlow's DataType enum values (types.proto) for the dtypes a signature commonly has.
_TF_DTYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
              7: "string", 9: "int64", 10: "bool", 17: "uint16", 19: "float16", 22: "uint32",
              23: "uint64"}


def _signatures(data: bytes) -> dict[str, Signature]:
    """SavedModel.meta_graphs[0].signature_def: {key: {input: {shape, type}}}."""
    try:
        meta = next((v for f, v in _fields(data) if f == 2), None)  # SavedModel.meta_graphs
        if meta is None:
            raise ModelProblem("is not a TensorFlow SavedModel: saved_model.pb has no graph")
        found: dict[str, Signature] = {}
        for field, entry in _fields(meta):
            if field != 5:  # MetaGraphDef.signature_def (a map: key 1, value 2)
                continue
            pairs = dict(_fields(entry))
            key = bytes(pairs.get(1, b"")).decode("utf-8", "replace")
            if not key.startswith("__"):  # __saved_model_init_op: TensorFlow's own
                found[key] = _signature_inputs(pairs.get(2, b""))
        return found
    except (IndexError, ValueError, TypeError) as exc:
        raise ModelProblem(f"saved_model.pb cannot be read: {exc}") from None


def _signature_inputs(signature: bytes) -> Signature:
    inputs: Signature = {}
    for field, entry in _fields(signature):
        if field != 1:  # SignatureDef.inputs (a map of TensorInfo)
            continue
        pairs = dict(_fields(entry))
        name = bytes(pairs.get(1, b"")).decode("utf-8", "replace")
        info = dict(_fields(pairs.get(2, b"")))
        shape: list[int | None] = []
        for dim_field, dim in _fields(info.get(3, b"")):  # TensorInfo.tensor_shape
            if dim_field == 2:  # TensorShapeProto.dim
                size = dict(_fields(dim)).get(1, 0)
                shape.append(None if size == (1 << 64) - 1 else int(size))  # -1: unknown
        inputs[name] = {"shape": shape, "type": _TF_DTYPES.get(info.get(2, 0), "unknown")}
    return inputs


def _fields(data: bytes) -> Iterator[tuple[int, Any]]:
    """(field number, value) of a protobuf message: ints for varints, bytes otherwise."""
    view = memoryview(data)
    i = 0
    while i < len(view):
        tag, i = _varint(view, i)
        wire = tag & 7
        if wire == 0:
            value, i = _varint(view, i)
        elif wire == 2:
            size, i = _varint(view, i)
            if i + size > len(view):
                raise ValueError("truncated message")
            value, i = bytes(view[i:i + size]), i + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, i = bytes(view[i:i + width]), i + width
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield tag >> 3, value


def _varint(view: memoryview, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = view[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")

