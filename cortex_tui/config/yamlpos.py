"""Safe YAML loading that keeps the line and column of every key and value.

PyYAML's composer gives a node graph with marks; we build plain Python values from it ourselves
so that nothing but the safe scalar types is ever constructed, duplicate keys are reported
(PyYAML silently keeps the last), and alias bombs or deep nesting stay a reported problem.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[Any, ...]

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
BINARY_TAG = "tag:yaml.org,2002:binary"
MAX_VALUES = 50_000  # values after alias expansion; a real cortex.yaml has a few hundred
MAX_DEPTH = 100
MAX_CHARS = 1024 * 1024  # PyYAML reads about a megabyte a second; real files are kilobytes
MAX_INT = 10 ** (sys.get_int_max_str_digits() - 1)  # the largest Python can print in decimal
TOO_MANY_DIGITS = "this number has too many digits"


@dataclass(frozen=True)
class Pos:
    """1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Marks:
    """Where a value sits in the file, and where its key sits (None for list items / root)."""

    key: Pos | None
    value: Pos


@dataclass(frozen=True)
class YamlProblem:
    pos: Pos
    path: Path
    message: str


@dataclass
class YamlDoc:
    """Plain data (dicts, lists, scalars), the marks of every path, problems found on the way."""

    data: Any = None
    marks: dict[Path, Marks] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)
    syntax_ok: bool = True
    broken: set[Path] = field(default_factory=set)  # values unreadable, replaced by None


class _TooBig(Exception):
    pass


def _pos(mark: yaml.Mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def position_of_index(text: str, index: int) -> Pos:
    """Line and column of a character index (for errors PyYAML gives without a mark)."""
    index = max(0, min(index, len(text)))
    line_start = text.rfind("\n", 0, index) + 1
    return Pos(text.count("\n", 0, index) + 1, index - line_start + 1)


def position_of_byte(raw: bytes, index: int) -> tuple[int, int]:
    """Line and column (in characters) of a byte index, as an editor shows them; the bytes
    before it on its line are read as UTF-8 with anything undecodable counted as one."""
    line_start = raw.rfind(b"\n", 0, index) + 1
    prefix = raw[line_start:index].decode("utf-8", "replace")
    return raw.count(b"\n", 0, index) + 1, len(prefix) + 1


def load_yaml(text: str) -> YamlDoc:
    """Parse one YAML document; syntax errors and unsafe values become problems."""
    doc = YamlDoc()
    if len(text) > MAX_CHARS:
        doc.problems.append(YamlProblem(Pos(1, 1), (), f"too large: more than {MAX_CHARS} "
                                        "characters (a cortex.yaml holds settings, not data)"))
        doc.syntax_ok = False
        return doc
    loader: _CountingLoader | None = None
    try:
        loader = _CountingLoader(text)  # its reader refuses control characters already
        root = loader.get_single_node()
        if root is None:
            return doc
        doc.data = _Builder(doc).build(root, (), None, ())
    except (yaml.YAMLError, RecursionError) as exc:
        doc.problems.append(_parse_failure(exc, text))
        doc.syntax_ok = False
    except _TooBig:
        doc.data = None
        doc.syntax_ok = False
        doc.problems.append(YamlProblem(
            Pos(1, 1), (), f"too large: more than {MAX_VALUES} values (each use of an alias "
            "counts again; a cortex.yaml holds settings, not data)",
        ))
    finally:
        if loader is not None:
            loader.dispose()
    return doc


class _CountingLoader(yaml.SafeLoader):
    """Stops composing once the document has more nodes than a cortex.yaml could need:
    PyYAML takes seconds per hundred thousand, and the builder would refuse them anyway."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self.nodes += 1
        if self.nodes > MAX_VALUES:
            raise _TooBig
        return super().compose_node(parent, index)


def _parse_failure(exc: Exception, text: str) -> YamlProblem:
    """Where and why PyYAML could not parse the text."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and (exc.problem or "").startswith(_AT_THE_START):
            mark = exc.context_mark  # where the unclosed thing or the colon-less key began
        pos = _pos(mark) if mark is not None else Pos(1, 1)
        return YamlProblem(pos, (), _syntax_message(exc))
    if isinstance(exc, yaml.reader.ReaderError):
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        return YamlProblem(
            position_of_index(text, exc.position), (),
            f"YAML syntax error: {what} is not allowed in a YAML file ({exc.reason})",
        )
    message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
    return YamlProblem(Pos(1, 1), (), f"YAML syntax error: {message}")


# PyYAML's wording of the usual mistakes, in plain words.
_PLAIN: tuple[tuple[str, str], ...] = (
    ("expected <block end>, but found", "bad indentation: this line does not line up with "
     "the lines above it"),
    ("mapping values are not allowed here", "unexpected ':' (quote a value that contains ': ')"),
    ("found character '\\t' that cannot start any token", "tab character: indent with spaces"),
    ("could not find expected ':'", "expected 'key: value' (a ':' is missing or the "
     "indentation is off)"),
    ("expected ',' or '}', but got '<stream end>'", "unclosed '{'"),
    ("expected ',' or ']', but got '<stream end>'", "unclosed '['"),
    ("found unexpected end of stream", "unclosed quote"),
    ("but found another document", "only one YAML document is allowed (remove '---')"),
)


_AT_THE_START = (
    "could not find expected ':'", "expected ',' or '}', but got '<stream end>'",
    "expected ',' or ']', but got '<stream end>'", "found unexpected end of stream",
)


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = (exc.problem or "invalid YAML").strip()
    for pyyaml_words, plain in _PLAIN:
        if problem.startswith(pyyaml_words):
            return f"YAML syntax error: {plain}"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        return f"YAML syntax error: {problem} ({exc.context} at line {exc.context_mark.line + 1})"
    return f"YAML syntax error: {problem}"


class _Builder:
    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.count = 0
        self.constructor = SafeConstructor()

    def problem(self, pos: Pos, path: Path, message: str, broken: bool = True) -> None:
        self.doc.problems.append(YamlProblem(pos, path, message))
        if broken:
            self.doc.broken.add(path)

    def build(self, node: Node, path: Path, key_pos: Pos | None, stack: tuple[int, ...]) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig
        value_pos = _value_pos(node, key_pos)
        self.doc.marks[path] = Marks(key_pos, value_pos)
        if id(node) in stack:
            self.problem(value_pos, path, "an alias refers to itself (recursive structure)")
            return None
        if len(stack) >= MAX_DEPTH:
            self.problem(value_pos, path, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, value_pos)
        inner = (*stack, id(node))
        if node.tag not in (MAP_TAG, SEQ_TAG):
            self.problem(value_pos, path, f"unsupported YAML tag {short_tag(node.tag)}")
            return None
        if isinstance(node, SequenceNode):
            return [
                self.build(child, (*path, i), None, inner) for i, child in enumerate(node.value)
            ]
        assert isinstance(node, MappingNode)
        return self.mapping(node, path, inner)

    def scalar(self, node: ScalarNode, path: Path, pos: Pos) -> Any:
        # Only JSON's kinds of values: metadata travels as JSON to the operator, as YAML to
        # pods, and into `validate -o json`. A date stays the text the user wrote, as the
        # original platform passed it; binary data has no JSON form.
        if node.tag == TIMESTAMP_TAG:
            return node.value
        if node.tag == BINARY_TAG:
            self.problem(pos, path, "unsupported YAML tag !!binary (binary data has no JSON "
                         "form: give a file name or a base64 string instead)")
            return None
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            message = (exc.problem or "cannot read this value").strip()
            if "could not determine a constructor" in message:
                message = f"unsupported YAML tag {short_tag(node.tag)}"
            self.problem(pos, path, message)
        except Exception as exc:
            # PyYAML's constructors raise anything on odd text (`!!bool maybe`: KeyError,
            # `!!int ""`: IndexError): it is this value's
            # problem, not a crash
            if "Exceeds the limit" in str(exc):
                self.problem(pos, path, TOO_MANY_DIGITS)
            else:
                text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
                self.problem(pos, path, f'cannot read this value as {short_tag(node.tag)} '
                                        f'(got "{text}")')
        else:
            if isinstance(value, int) and not -MAX_INT < value < MAX_INT:
                # hex and binary are read without Python's decimal-digit limit, and the
                # number could not be printed (JSON, messages) afterwards
                self.problem(pos, path, TOO_MANY_DIGITS)
                return None
            return value
        return None

    def mapping(self, node: MappingNode, path: Path, stack: tuple[int, ...]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        explicit: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.extend(self.merge_source(value_node, path, stack))
            else:
                explicit.append((key_node, value_node))
        # Merged keys come first so explicit keys override them, as YAML merge keys require.
        for key_node, value_node in merged:
            key = self.key(key_node, path)
            if key is not _BAD_KEY and key not in result:
                result[key] = self.build(value_node, (*path, key), _pos(key_node.start_mark), stack)
        seen: set[Any] = set()
        for key_node, value_node in explicit:
            key = self.key(key_node, path)
            if key is _BAD_KEY:
                continue
            key_pos = _pos(key_node.start_mark)
            if key in seen:
                self.problem(
                    key_pos, (*path, key),
                    f"duplicate key {_show_key(key)} (first at line {first_line[key]})",
                    broken=False,
                )
            else:
                seen.add(key)
                first_line[key] = key_pos.line
            result[key] = self.build(value_node, (*path, key), key_pos, stack)
        return result

    def merge_source(
        self, node: Node, path: Path, stack: tuple[int, ...]
    ) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode) or id(source) in stack:
                self.problem(
                    _pos(source.start_mark), path, "a merge key (<<) needs a map", broken=False
                )
                continue
            pairs.extend(p for p in source.value if p[0].tag != MERGE_TAG)
        return pairs

    def key(self, node: Node, path: Path) -> Any:
        if not isinstance(node, ScalarNode):
            self.problem(
                _pos(node.start_mark), path, "keys must be plain values, not maps", broken=False
            )
            return _BAD_KEY
        value = self.scalar(node, path, _pos(node.start_mark))
        try:
            hash(value)
        except TypeError:
            self.problem(
                _pos(node.start_mark), path, "this key cannot be used as a map key", broken=False
            )
            return _BAD_KEY
        return value


_BAD_KEY = object()


def short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object` as the user wrote it: `!!python/object`."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _show_key(key: Any) -> str:
    return f'"{key}"' if isinstance(key, str) else repr(key)


def _value_pos(node: Node, key_pos: Pos | None) -> Pos:
    # An empty value (`compute:` with nothing after it) is marked where the next token starts,
    # often on a later line: point at its key instead.
    if (
        key_pos is not None
        and isinstance(node, ScalarNode)
        and node.value == ""
        and node.style is None
    ):
        return key_pos
    return _pos(node.start_mark)
