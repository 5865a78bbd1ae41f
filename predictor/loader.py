"""Load the user's inference file: import it fresh, check `predict`/`init`, run `init`."""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from predictor.logs import describe, show_paths_relative_to
from predictor.memory import exit_if_out_of_memory


class InitFailure(Exception):
    """The replica cannot start; `str(exc)` is the one-line message for the user."""


@dataclass(frozen=True)
class Inference:
    predict: Callable[[Any, Any], Any]
    is_async: bool
    module: ModuleType | None  # None for the onnx / tensorflow runtimes
    signature: dict[str, Any] | None = None  # the model's inputs (GET /signature)


def _shown(path: str | Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)


def _where(exc: BaseException, root: Path, fallback: str) -> str:
    """`file:line` of the innermost frame inside the project (else the innermost frame)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_shown(exc.filename, root)}:{exc.lineno or 0}"
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if _is_inside(f.filename, root)]
    chosen = (inside or frames or [None])[-1]
    if chosen is None:
        return fallback
    return f"{_shown(chosen.filename, root)}:{chosen.lineno}"


def _is_inside(filename: str, root: Path) -> bool:
    try:
        Path(filename).resolve().relative_to(root)
    except (ValueError, OSError):
        return False
    return True


def _failure(what: str, exc: BaseException, root: Path, fallback: str) -> InitFailure:
    exit_if_out_of_memory(exc)
    shown = f"{type(exc).__name__}: {exc.msg}" if isinstance(exc, SyntaxError) else describe(exc)
    return InitFailure(f"{_where(exc, root, fallback)}: {what}: {shown}")


def import_inference(root: Path, relative: str) -> ModuleType:
    """Import `root/relative` as a new module.

    The project root (then the inference file's folder, when it is another one) goes first on
    sys.path, and becomes the working directory, so relative paths in user code mean the same
    wherever the replica was started from.
    """
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_file():
        raise InitFailure(f"{relative}: inference file not found in {root}")
    for folder in dict.fromkeys((str(path.parent), str(root))):
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
    os.chdir(root)
    show_paths_relative_to(root)
    name = f"cortex_inference_{path.stem}"
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InitFailure(f"{relative}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt too: this is a worker thread
        sys.modules.pop(name, None)
        raise _failure("import failed", exc, root, relative) from exc
    return module


def _check_signature(fn: Any, params: tuple[str, ...], relative: str, root: Path) -> None:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    code = getattr(fn, "__code__", None)
    where = f"{_shown(code.co_filename, root)}:{code.co_firstlineno}" if code else relative
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and C callables: trust them
    try:
        signature.bind(*params)
    except TypeError as exc:
        wanted = f"{name}({', '.join(params)})"
        raise InitFailure(
            f"{where}: bad signature {name}{signature}: must be callable as {wanted} ({exc})"
        ) from None


def check_module(module: ModuleType, relative: str, root: Path) -> Inference:
    root = root.resolve()
    predict = getattr(module, "predict", None)
    if predict is None:
        raise InitFailure(f"{relative}: no predict function: define predict(sample, metadata)")
    if not callable(predict):
        raise InitFailure(
            f"{relative}: predict is not a function: define predict(sample, metadata)"
        )
    _check_signature(predict, ("sample", "metadata"), relative, root)
    init = getattr(module, "init", None)
    if init is not None:
        if not callable(init):
            raise InitFailure(f"{relative}: init is not a function: define init(metadata)")
        _check_signature(init, ("metadata",), relative, root)
    return Inference(predict, _is_async(predict), module)


def _is_async(fn: Any) -> bool:
    """`async def predict`, or an object whose `__call__` is `async def`."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = None if inspect.isroutine(fn) else type(fn).__call__
    return inspect.iscoroutinefunction(call)


def start_init(module: ModuleType, metadata: dict[str, Any], relative: str, root: Path) -> Any:
    """Call `init(metadata)`; returns its awaitable when init is `async def` (else None)."""
    init = getattr(module, "init", None)
    if init is None:
        return None
    try:
        result = init(metadata)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt too: this is a worker thread
        raise init_failure(exc, root, relative) from exc
    return result if inspect.isawaitable(result) else None


def init_failure(exc: BaseException, root: Path, relative: str) -> InitFailure:
    return _failure("init failed", exc, root.resolve(), relative)


def prepare(root: Path, relative: str, metadata: dict[str, Any]) -> tuple[Inference, Any]:
    """Import, check and call init; returns the inference and init's pending awaitable.

    Raises InitFailure with one clear line (file:line: what: Type: message).
    """
    module = import_inference(root, relative)
    inference = check_module(module, relative, root)
    return inference, start_init(module, metadata, relative, root)
