"""Walks one cortex.yaml (already parsed with positions) and collects every problem."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voluptuous import Invalid, MultipleInvalid, RequiredFieldInvalid, Schema

from cortex_tui.config import model_check, schema
from cortex_tui.config.inference_check import (
    BATCHED_INFERENCE,
    INFERENCE,
    REQUEST_HANDLER,
    Expected,
    PathProblem,
    check_source,
    resolve_inference,
    resolve_project_path,
)
from cortex_tui.config.model import (
    AUTOSCALE_SIGNALS,
    COMPUTE_FIELDS,
    DEFAULT_AUTOSCALE_ON,
    IN_FLIGHT_KEYS,
    RUNTIMES,
    ApiSpec,
    Batching,
    Compute,
    Problem,
    Project,
    Tracker,
    default_max_body_size,
    freeze,
    largest_body_size,
    sync_period,
)
from cortex_tui.config.quantity import (
    QuantityError,
    describe,
    format_bytes,
    format_duration,
    parse_bytes,
    parse_duration,
)
from cortex_tui.config.yamlpos import Marks, Pos, YamlDoc, load_yaml


@dataclass
class Validator:
    """One validation run: `run()` returns the Project, or None with `problems` filled."""

    text: str
    root: Path
    filename: str
    problems: list[Problem] = field(default_factory=list)
    doc: YamlDoc = field(default_factory=YamlDoc)
    checked: dict[tuple[str, tuple[Expected, ...]], list[tuple[int, int, str]]] = field(
        default_factory=dict)
    lines: list[int] = field(default_factory=list)  # each line's length, split once

    # -- reporting -------------------------------------------------------------------------

    def report(self, path: tuple[Any, ...], message: str, api: str | None = None,
               at: str = "value") -> None:
        """A problem at `path` (index-first), pointing at its value, key or parent map."""
        if any(path[:n] in self.doc.broken for n in range(len(path) + 1)):
            return  # the value could not be read; that problem is already reported
        pos = self.position(path, at)
        self.problems.append(Problem(
            self.filename, *self.clamp(pos), api, _dotted(path[1:]), message,
        ))

    def position(self, path: tuple[Any, ...], at: str) -> Pos:
        marks = self.doc.marks
        if at == "parent" or path not in marks:
            while path and path not in marks:
                path = path[:-1]
            return marks[path].value if path in marks else Pos(1, 1)
        found: Marks = marks[path]
        return found.key if at == "key" and found.key is not None else found.value

    def clamp(self, pos: Pos) -> tuple[int, int]:
        """Keep positions on lines that exist (errors at end of file point past the end)."""
        if not self.lines:
            self.lines = line_lengths(self.text)
        return clamp(self.lines, pos.line, pos.column)

    # -- the whole file --------------------------------------------------------------------

    def run(self) -> Project | None:
        self.doc = load_yaml(self.text)
        for problem in self.doc.problems:
            api = self.api_at(problem.path)
            self.problems.append(Problem(
                self.filename, *self.clamp(problem.pos), api, _dotted(problem.path[1:]),
                problem.message,
            ))
        if not self.doc.syntax_ok:
            return None
        data = self.doc.data
        if not isinstance(data, list):
            got = "an empty file" if data is None else describe(data)
            self.report((), "must be a YAML list of resources, each starting with "
                            f"'- kind: api' (got {got})")
            return None
        apis: list[ApiSpec] = []
        deployment: str | None = None
        deployment_image: str | None = None
        seen_deployment: int | None = None
        names: dict[str, int] = {}
        for index, item in enumerate(data):
            kind = self.kind_of(index, item)
            if kind == "api":
                spec = self.api(index, item, names)
                if spec is not None:
                    apis.append(spec)
            elif kind == "deployment":
                line = self.doc.marks[(index,)].value.line
                if seen_deployment is not None:
                    self.report((index, "kind"), "only one 'kind: deployment' entry is allowed "
                                f"(first at line {seen_deployment})")
                seen_deployment = seen_deployment or line
                entry = self.deployment(index, item) or {}
                deployment = entry.get("name") or deployment
                deployment_image = entry.get("image") or deployment_image
        if not self.problems and not apis:
            self.report((), "must contain at least one 'kind: api' entry")
        if self.problems:
            return None
        return Project(
            root=self.root,
            config_file=self.root / self.filename,
            deployment_name=deployment or default_deployment_name(self.root),
            apis=tuple(a if a.image else replace(a, image=deployment_image) for a in apis),
        )

    def api_at(self, path: tuple[Any, ...]) -> str | None:
        data = self.doc.data
        if path and isinstance(data, list) and isinstance(path[0], int) and path[0] < len(data):
            item = data[path[0]]
            if isinstance(item, dict) and item.get("kind") == "api":
                return shown_name(item.get("name"))
        return None

    def kind_of(self, index: int, item: Any) -> str | None:
        if not isinstance(item, dict):
            self.report((index,), "each resource must be a map starting with 'kind: api' "
                                  f"(got {describe(item)})")
            return None
        if "kind" not in item:
            self.report((index, "kind"), 'is required: "api" or "deployment"', at="parent",
                        api=self.api_at((index,)))
            return None
        kind = item["kind"]
        if kind not in schema.KINDS or not isinstance(kind, str):
            self.report((index, "kind"), f'must be "api" or "deployment" (got {describe(kind)})')
            return None
        return kind

    # -- one entry -------------------------------------------------------------------------

    def api(self, index: int, item: dict[Any, Any], names: dict[str, int]) -> ApiSpec | None:
        name = item.get("name") if isinstance(item.get("name"), str) else None
        api = shown_name(name)
        data = dict(item)
        for key in ("compute", "metadata"):
            if data.get(key) is None:
                data[key] = {}
        if "tracker" in data and data["tracker"] is None:
            del data["tracker"]
        valid = self.apply(schema.API, index, data, api, "api")
        line = self.doc.marks[(index,)].value.line
        if name is not None and schema.DNS_1035.fullmatch(name):
            if name in names:
                self.report((index, "name"), f"duplicate API name (first at line {names[name]})",
                            api)
            else:
                names[name] = self.doc.marks[(index, "name")].value.line
        compute_raw = data["compute"] if isinstance(data["compute"], dict) else {}
        self.replica_rules(index, compute_raw, api)
        self.body_fits_mem(index, compute_raw, api)
        self.autoscaling_rules(index, compute_raw, api)
        runtime = self.runtime(index, data, api)
        if valid is None or runtime is None:
            return None
        return self.build_api(valid, runtime, line, self.compute_positions(index))

    def deployment(self, index: int, item: dict[Any, Any]) -> dict[Any, Any] | None:
        return self.apply(schema.DEPLOYMENT, index, item, None, "deployment")

    def apply(self, validator: Schema, index: int, data: dict[Any, Any], api: str | None,
              kind: str) -> dict[Any, Any] | None:
        try:
            return validator(data)
        except MultipleInvalid as exc:
            for error in exc.errors:
                self.voluptuous_problem(index, error, api, kind)
        except Invalid as exc:
            self.voluptuous_problem(index, exc, api, kind)
        return None

    def voluptuous_problem(self, index: int, error: Invalid, api: str | None, kind: str) -> None:
        path = (index, *error.path)
        message = error.msg
        if isinstance(error, RequiredFieldInvalid):
            self.report(path, "is required", api, at="parent")
        elif message == "extra keys not allowed":
            self.report(path, self.unknown_key_message(kind, error.path), api, at="key")
        elif message.startswith("expected a dictionary"):
            self.report(path, f"must be a map (got {describe(self.raw(path))})", api)
        elif message.startswith("not a valid value") and list(error.path) == ["kind"]:
            self.report(path, f"must be {describe(kind)}", api)
        elif message.startswith("not a valid value"):  # a validator's own ValueError
            self.report(path, f"is not a valid value (got {describe(self.raw(path))})", api)
        else:
            self.report(path, message, api,
                        at="key" if message.startswith("keys must be strings") else "value")

    def unknown_key_message(self, kind: str, path: list[Any]) -> str:
        where = tuple(p for p in path[:-1] if isinstance(p, str))
        known = schema.KNOWN_KEYS.get((kind, *where), ())
        key = path[-1]
        if isinstance(key, str) and (kind, *where, key) in schema.MIGRATION_HINTS:
            return schema.MIGRATION_HINTS[(kind, *where, key)]
        hint = ""
        if isinstance(key, str):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
        choices = ", ".join(known)
        return f"unknown key {describe(key)}{hint} (known keys: {choices})"

    def raw(self, path: tuple[Any, ...]) -> Any:
        value: Any = self.doc.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def replica_rules(self, index: int, compute: dict[Any, Any], api: str | None) -> None:
        """min_replicas <= init_replicas <= max_replicas, checked on the values that are ints."""
        def value(key: str, default: int | None, least: int = 0) -> int | None:
            raw = compute.get(key, default)
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < least:
                return None
            return raw

        low = value("min_replicas", 1)
        high = value("max_replicas", 100, least=1)
        init = value("init_replicas", None)
        base = (index, "compute")
        if low is not None and high is not None and low > high:
            if "min_replicas" in compute:
                self.report((*base, "min_replicas"), "must be less than or equal to "
                            f"max_replicas ({high}) (got {low})", api)
            else:
                self.report((*base, "max_replicas"), "must be greater than or equal to "
                            f"min_replicas ({low}) (got {high})", api)
        if init is None:
            return
        at = (*base, "init_replicas")
        if low is not None and high is not None and low <= high:
            if not low <= init <= high:
                self.report(at, f"must be between min_replicas ({low}) and max_replicas "
                            f"({high}) (got {init})", api)
        # min_replicas is invalid or above max_replicas: init_replicas against each bound alone
        elif high is not None and init > high:
            self.report(at, f"must be less than or equal to max_replicas ({high}) (got {init})",
                        api)
        elif low is not None and init < low:
            self.report(at, "must be greater than or equal to min_replicas "
                        f"({low}) (got {init})", api)

    def body_fits_mem(self, index: int, compute: dict[Any, Any], api: str | None) -> None:
        """A request body and its parsed objects must fit the replica's memory."""
        try:
            mem, body = parse_bytes(compute["mem"]), parse_bytes(compute["max_body_size"])
        except (KeyError, QuantityError):
            return  # unset, or the schema reports it
        if body <= largest_body_size(mem):
            return
        self.report((index, "compute", "max_body_size"),
                    f"cannot fit compute.mem ({format_bytes(mem)}): a body and its parsed "
                    f"objects need more; at most {format_bytes(largest_body_size(mem))} "
                    f"(a quarter of mem) (got {format_bytes(body)})", api)

    def autoscaling_rules(self, index: int, compute: dict[Any, Any], api: str | None) -> None:
        """The rules between autoscaling keys: which signal reads which key, scale to zero,
        a window the autoscaler can fill."""
        base = (index, "compute")
        signal = compute.get("autoscale_on", DEFAULT_AUTOSCALE_ON)
        if signal not in AUTOSCALE_SIGNALS:
            return  # the schema reported it
        if signal == "cpu":
            for key in IN_FLIGHT_KEYS:
                if key in compute:
                    self.report((*base, key), "is only used with autoscale_on: in_flight "
                                "(this API scales on cpu)", api, at="key")
            if compute.get("min_replicas") == 0:
                self.report((*base, "min_replicas"), "must be greater than 0 (got 0); 0 "
                            "(scale to zero) needs autoscale_on: in_flight", api)
            return
        window = compute.get("window")
        try:
            seconds = parse_duration(window) if window is not None else None
        except QuantityError:
            return  # the schema reported it
        period = sync_period()
        if seconds is not None and 0 < seconds < period:
            self.report((*base, "window"), f"must be at least the autoscaler's sync period "
                        f"({format_duration(period)}) (got {describe(window)})", api)

    def runtime(self, index: int, data: dict[Any, Any], api: str | None) -> dict[str, Any] | None:
        """Exactly one runtime section, checked: the ApiSpec fields it gives, or None."""
        found = [key for key in RUNTIMES if key in data]
        if not found and "predictor" in data:
            return None  # reported with its migration hint
        if not found:
            self.report((index,), "needs one runtime: 'python: {inference: FILE}', "
                        "'onnx: {model: FILE}' or 'tensorflow: {model: PATH}'", api)
            return None
        if len(found) > 1:
            for key in found[1:]:
                self.report((index, key), f"only one runtime per API: remove '{key}:' or "
                            f"'{found[0]}:'", api, at="key")
            return None
        runtime = found[0]
        section = data[runtime]
        if not isinstance(section, dict):
            return None  # the schema reported it
        if runtime == "python":
            batched = isinstance(section.get("server_side_batching"), dict)
            inference = self.source_file(index, (runtime, "inference"), section, api,
                                         BATCHED_INFERENCE if batched else INFERENCE)
            return None if inference is None else {"runtime": runtime, "inference": inference}
        model = self.model(index, runtime, section, api)
        handler: str | None = None
        if "request_handler" in section:
            handler = self.source_file(index, (runtime, "request_handler"), section, api,
                                       REQUEST_HANDLER)
            if handler is None:
                return None
        if model is None:
            return None
        return {"runtime": runtime, "inference": "", "model": model,
                "request_handler": handler, "signature_key": section.get("signature_key")}

    def source_file(self, index: int, keys: tuple[str, str], section: dict[Any, Any],
                    api: str | None, expected: tuple[Expected, ...]) -> str | None:
        """A Python file of the API, parsed and checked: its relative path, or None."""
        value = section.get(keys[1])
        if not isinstance(value, str) or not value.strip():
            return None  # the schema reported it
        path = (index, *keys)
        resolved = resolve_inference(self.root, value)
        if isinstance(resolved, PathProblem):
            self.report(path, resolved.message, api)
            return None
        relative, file = resolved
        if (relative, expected) not in self.checked:  # APIs often share one file
            try:
                source = file.read_bytes()
            except OSError as exc:
                self.report(path, f"cannot be read: {exc}", api)
                return None
            lengths = line_lengths(source.decode("utf-8", "replace"))
            self.checked[relative, expected] = [
                (*clamp(lengths, p.line, p.column), p.message)
                for p in check_source(source, expected)
            ]
        found = self.checked[relative, expected]
        for line, column, message in found:
            self.problems.append(Problem(relative, line, column, api, "", message))
        return None if found else relative

    def model(self, index: int, runtime: str, section: dict[Any, Any],
              api: str | None) -> str | None:
        """An onnx / tensorflow model: its normalised path or s3:// URL, or None."""
        value = section.get("model")
        if not isinstance(value, str) or not value.strip():
            return None  # the schema reported it
        path = (index, runtime, "model")
        if model_check.is_s3(value):
            problem = model_check.check_s3_url(value)
            if problem is not None:
                self.report(path, problem, api)
                return None
            return value
        resolved = resolve_project_path(self.root, value, kind="a model",
                                        folder_ok=runtime == "tensorflow")
        if isinstance(resolved, PathProblem):
            self.report(path, resolved.message, api)
            return None
        relative, target = resolved
        key = section.get("signature_key")
        try:
            if runtime == "onnx":
                model_check.onnx_signature(target)
            else:
                signatures = model_check.tensorflow_signatures(target)
                model_check.pick_signature(signatures, key if isinstance(key, str) else None)
        except model_check.SignatureProblem as exc:
            at = (index, runtime, "signature_key") if "signature_key" in section else path
            self.report(at, str(exc), api)
            return None
        except model_check.ModelProblem as exc:
            self.report(path, str(exc), api)
            return None
        except OSError as exc:
            self.report(path, f"cannot be read: {exc}", api)
            return None
        return relative

    def compute_positions(self, index: int) -> dict[str, tuple[int, int]]:
        found = {}
        for path, marks in self.doc.marks.items():
            if len(path) == 3 and path[:2] == (index, "compute") and isinstance(path[2], str):
                found[path[2]] = self.clamp(marks.value)
        return found

    def build_api(self, valid: dict[Any, Any], runtime: dict[str, Any], line: int,
                  positions: dict[str, tuple[int, int]]) -> ApiSpec:
        c = valid["compute"]
        fields = {k: v for k, v in c.items() if k in COMPUTE_FIELDS}
        fields.setdefault("init_replicas", c["min_replicas"])
        fields.setdefault("max_body_size", default_max_body_size(c["mem"]))
        compute = Compute(**fields)
        tracker = None
        if "tracker" in valid:
            tracker = Tracker(model_type=valid["tracker"]["model_type"],
                              key=valid["tracker"].get("key"))
        batching = valid.get(runtime["runtime"], {}).get("server_side_batching")
        return ApiSpec(
            batching=None if batching is None else Batching(**batching),
            name=valid["name"],
            **runtime,
            compute=compute,
            tracker=tracker,
            metadata=freeze(valid["metadata"]),
            line=line,
            image=valid.get("image"),
            positions=freeze(positions),
        )


def shown_name(name: Any) -> str | None:
    """An API's name as problems label it: only when it is a short printable string."""
    if isinstance(name, str) and name and len(name) <= 100 and name.isprintable():
        return name
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    """`("compute", "cpu")` -> "compute.cpu"; list indices as `[0]`; odd keys quoted."""
    parts = []
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            parts.append(f"[{part}]")
        elif isinstance(part, str) and part.isprintable() and part and "." not in part:
            parts.append(part)
        else:
            parts.append(describe(part) if isinstance(part, str) else str(part))
    return ".".join(parts).replace(".[", "[")


def line_lengths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()] or [0]


def clamp(lengths: list[int], line: int, column: int) -> tuple[int, int]:
    """A position moved onto a line that exists, given each line's length (errors at the
    end of a file point past it). Split once per file: a problem costs O(1), not O(file)."""
    if line < 1:
        return 1, 1
    if line > len(lengths):
        return len(lengths), lengths[-1] + 1
    return line, max(1, min(column, lengths[line - 1] + 1))


def default_deployment_name(root: Path) -> str:
    """The project folder's name as a DNS-1123 label ("My Project_2" -> "my-project-2")."""
    name = re.sub(r"[^a-z0-9-]+", "-", root.resolve().name.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")[:63].strip("-")
    return name or "cortex"
