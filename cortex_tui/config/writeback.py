"""Write changed autoscaling values back into cortex.yaml, keeping comments and layout.

Used by the TUI's scale dialog after the backend accepted the change. ruamel.yaml's round-trip
mode keeps comments, key order and quoting; the indentation is guessed from the file itself.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from cortex_tui.config.atomic import write_text_atomic
from cortex_tui.config.scaling import SCALE_KEYS
from cortex_tui.errors import UserError


class WritebackError(UserError):
    """The file cannot take the change (missing API, not a list); the message says why."""


def _round_trip(text: str) -> tuple[YAML, object]:
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    sequence = indent or 2
    offset = block_seq_indent or 0
    # the guessed indent is the sequence's; its items' maps are indented by the rest
    yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    return yaml, yaml.load(text)


def _api_entry(data: object, api: str) -> CommentedMap:
    if not isinstance(data, CommentedSeq):
        raise WritebackError("cortex.yaml is not a list of resources")
    for item in data:
        if isinstance(item, CommentedMap) and item.get("kind") == "api" and item.get("name") == api:
            return item
    raise WritebackError(f'cortex.yaml has no api named "{api}"')


def _without_implied_init(compute: CommentedMap, values: Mapping[str, int]) -> dict[str, int]:
    """A file without `init_replicas` means "as min_replicas": when the new init is just that
    (it followed a changed min), the file keeps saying so instead of pinning a number."""
    values = dict(values)
    new_min = values.get("min_replicas", compute.get("min_replicas", 1))
    if "init_replicas" not in compute and values.get("init_replicas") == new_min:
        del values["init_replicas"]
    return values


def write_scale(config_file: Path, api: str, values: Mapping[str, int]) -> None:
    """Set `compute.<key>` of `api` for each of `values` (keys from SCALE_KEYS)."""
    unknown = set(values) - set(SCALE_KEYS)
    if unknown:
        raise WritebackError(f"cannot write back {sorted(unknown)[0]}")
    try:
        text = config_file.read_text(encoding="utf-8")
        yaml, data = _round_trip(text)
    except UnicodeDecodeError:
        raise WritebackError(f"cannot read {config_file.name}: it is not UTF-8 text") from None
    except (OSError, YAMLError) as exc:
        raise WritebackError(f"cannot read {config_file.name}: {exc}") from None
    entry = _api_entry(data, api)
    compute = entry.get("compute")
    if compute is None:
        compute = CommentedMap()
        entry["compute"] = compute
    elif not isinstance(compute, CommentedMap):
        raise WritebackError(f'api "{api}": compute is not a map')
    values = _without_implied_init(compute, values)
    for key in SCALE_KEYS:
        if key in values:
            compute[key] = int(values[key])
    out = io.StringIO()
    yaml.dump(data, out)
    try:
        write_text_atomic(config_file, out.getvalue())
    except OSError as exc:
        raise WritebackError(f"cannot write {config_file.name}: {exc.strerror or exc}") from None
