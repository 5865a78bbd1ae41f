"""Checks of an API's inference file, without running it (SPEC §2, §3)."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cortex_tui.config.quantity import describe
from cortex_tui.config.yamlpos import position_of_byte

MAX_SOURCE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class PathProblem:
    """A problem with the `python.inference` value itself (positioned in cortex.yaml)."""

    message: str


@dataclass(frozen=True)
class SourceProblem:
    """A problem inside the inference file (1-based line and column in that file)."""

    line: int
    column: int
    message: str


def resolve_inference(root: Path, value: str) -> tuple[str, Path] | PathProblem:
    """The normalised relative POSIX path and the file, or why the path is not acceptable."""
    return resolve_project_path(root, value, suffix=".py", kind="an inference file")


def resolve_project_path(root: Path, value: str, suffix: str | None = None,
                         kind: str = "a file",
                         folder_ok: bool = False) -> tuple[str, Path] | PathProblem:
    """A path inside the project: its normalised relative POSIX form and the file (or folder,
    when `folder_ok`), or why it is not acceptable. `suffix`: the file must end with it."""
    shown = describe(value)
    if "\\" in value:
        return PathProblem(f"must use '/' as the path separator (got {shown})")
    if "\x00" in value:
        return PathProblem(f"is not a valid path (got {shown})")
    pure = PurePosixPath(value)
    if pure.is_absolute():
        return PathProblem(f"must be a path relative to the project folder (got {shown})")
    parts: list[str] = []
    for part in pure.parts:
        if part == "..":
            if not parts:
                return PathProblem(f"must stay inside the project folder (got {shown})")
            parts.pop()
        elif part != ".":
            parts.append(part)
    if suffix is not None and (not parts or pure.suffix != suffix):
        return PathProblem(f"must be a {suffix} file (got {shown})")
    if not parts:
        return PathProblem(f"must name a file inside the project folder (got {shown})")
    relative = "/".join(parts)
    target = root.joinpath(*parts)
    try:
        real_root = root.resolve()
        real = target.resolve()
        if not real.is_relative_to(real_root):
            return PathProblem(f"is a link to a file outside the project folder (got {shown})")
        if not target.exists():
            return PathProblem(f"file not found: {relative} (in {root})")
        if target.is_dir() and folder_ok:
            return relative, target
        if target.is_dir():
            return PathProblem(f"must be a file, not a folder (got {shown})")
        if not target.is_file():
            return PathProblem(f"must be a regular file, not a pipe or device (got {shown})")
        size = target.stat().st_size
        if suffix == ".py" and size > MAX_SOURCE_BYTES:
            return PathProblem(f"is too large to be {kind} ({size} bytes, got {shown})")
    except (OSError, RuntimeError, ValueError) as exc:
        return PathProblem(f"cannot be read: {exc}")
    return relative, target


@dataclass(frozen=True)
class Expected:
    """A module-level function a user file may or must define."""

    name: str
    params: tuple[str, ...]
    required: bool = False


INFERENCE = (Expected("predict", ("sample", "metadata"), required=True),
             Expected("init", ("metadata",)))
# With python.server_side_batching, predict receives a list of samples: the name says so.
BATCHED_INFERENCE = (Expected("predict", ("samples", "metadata"), required=True),
                     Expected("init", ("metadata",)))
REQUEST_HANDLER = (Expected("pre_inference", ("sample", "signature", "metadata")),
                   Expected("post_inference", ("prediction", "signature", "metadata")))
# Signatures of the original platform's later versions, with how to migrate.
MIGRATIONS = {
    ("init", ("model_path", "metadata")): "init(model_path, metadata) is the original "
    "platform's later form: write init(metadata) (put the model's path in metadata, or use "
    "an 'onnx:' / 'tensorflow:' API with 'model: PATH')",
}


def check_source(source: bytes, expected: tuple[Expected, ...] = INFERENCE) -> list[SourceProblem]:
    """Parse the file and check the signatures of the functions it may or must define
    (`predict` required and `init` optional by default)."""
    if len(source) > MAX_SOURCE_BYTES:
        return [SourceProblem(1, 1, "is too large to be an inference file")]
    if b"\x00" in source:
        line, column = position_of_byte(source, source.index(b"\x00"))
        return [SourceProblem(line, column,
                              "syntax error: a null byte is not allowed in Python source")]
    try:
        with warnings.catch_warnings():  # e.g. "invalid escape sequence": not our business
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except SyntaxError as exc:
        not_utf8 = _not_utf8(source) if "'utf-8' codec" in exc.msg else None
        if not_utf8 is not None:
            return [not_utf8]
        line = exc.lineno or 1
        column = exc.offset or 1
        return [SourceProblem(line, max(column, 1), f"syntax error: {exc.msg}")]
    except (RecursionError, MemoryError):  # Python could not import it either
        return [SourceProblem(1, 1, "cannot be parsed: nested too deeply")]
    except (ValueError, UnicodeDecodeError) as exc:
        return [SourceProblem(1, 1, f"cannot be parsed: {exc}")]
    functions, other_bindings = _module_functions(tree)
    problems: list[SourceProblem] = []
    for wanted in expected:
        func = functions.get(wanted.name)
        if func is None:
            # `from helper import *` may bring it: only running the file would tell.
            if wanted.required and not {wanted.name, "*"} & other_bindings:
                problems.append(SourceProblem(
                    1, 1, f"must define {wanted.name}({', '.join(wanted.params)})"))
            continue
        problems.extend(_check_signature(func, wanted.params))
    if not any(e.required for e in expected) and not (
            {e.name for e in expected} & (functions.keys() | other_bindings | {"*"})):
        names = " or ".join(f"{e.name}({', '.join(e.params)})" for e in expected)
        problems.append(SourceProblem(1, 1, f"must define {names}"))
    return problems


def _not_utf8(source: bytes) -> SourceProblem | None:
    """Where a file Python reads as UTF-8 (no coding declaration) stops being UTF-8."""
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = position_of_byte(source, exc.start)
        return SourceProblem(line, column, f"not UTF-8 text (byte 0x{source[exc.start]:02x}): "
                             "save the file as UTF-8 or declare its encoding in a "
                             "'# -*- coding: ... -*-' line")
    return None


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _module_functions(tree: ast.Module) -> tuple[dict[str, Function], set[str]]:
    """The last module-level def of each name; other names bound at module level."""
    functions: dict[str, Function] = {}
    others: set[str] = set()
    for node in _module_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
            others.discard(node.name)
            continue
        for name in _bound_names(node):
            others.add(name)
            functions.pop(name, None)
    return functions, others


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time, including those in module-level if/try/with blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.For, ast.While)):
            yield from _module_statements(node.body)
            yield from _module_statements(node.orelse)
        elif isinstance(node, ast.With):
            yield from _module_statements(node.body)
        elif isinstance(node, ast.Try):
            yield from _module_statements(node.body)
            for handler in node.handlers:
                yield from _module_statements(handler.body)
            yield from _module_statements(node.orelse)
            yield from _module_statements(node.finalbody)


def _bound_names(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(node, ast.ClassDef):
        yield node.name
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    yield sub.id


def _check_signature(func: Function, expected: tuple[str, ...]) -> list[SourceProblem]:
    args = func.args
    wanted = f"{func.name}({', '.join(expected)})"
    problems: list[SourceProblem] = []

    def at(node: ast.AST, message: str) -> None:
        problems.append(SourceProblem(node.lineno, node.col_offset + 1, message))

    positional = [*args.posonlyargs, *args.args]
    for arg in args.posonlyargs:
        at(arg, f"{wanted}: parameter '{arg.arg}' must not be positional-only")
    if args.vararg is not None:
        at(args.vararg, f"{wanted}: must not take *{args.vararg.arg}")
    if args.kwarg is not None:
        at(args.kwarg, f"{wanted}: must not take **{args.kwarg.arg}")
    for arg in args.kwonlyargs:
        at(arg, f"{wanted}: must not take keyword-only parameter '{arg.arg}'")
    for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
        at(default, f"{wanted}: parameters must not have default values")
    names = tuple(arg.arg for arg in positional)
    migration = MIGRATIONS.get((func.name, names))
    if migration is not None:
        at(func, migration)
    elif names != expected:
        # Point at the first parameter that differs (the def itself when one is missing).
        differs = next(
            (i for i, (a, b) in enumerate(zip(names, expected, strict=False)) if a != b),
            min(len(names), len(expected)),
        )
        where: ast.AST = positional[differs] if differs < len(positional) else func
        got = f"{func.name}({', '.join(names)})"
        at(where, f"must be defined as {wanted} (got {got})")
    return problems
