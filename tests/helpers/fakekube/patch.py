"""The three PATCH flavours of the API server: strategic merge, JSON merge, JSON patch."""

from __future__ import annotations

import copy
from typing import Any

from tests.helpers.fakekube.resources import ApiError, bad_request

# Lists merged item by item (by this key) in a strategic merge patch; other lists are replaced.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# `ports` merge by containerPort in a pod, by port in a Service.
PORT_KEYS = ("containerPort", "port")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field in MERGE_KEYS:
        return MERGE_KEYS[field]
    if field == "ports":
        for key in PORT_KEYS:
            if all(isinstance(i, dict) and key in i for i in items):
                return key
    return None


def _merge_list(field: str, target: list[Any], patch: list[Any]) -> list[Any]:
    key = _merge_key(field, patch)
    if key is None:
        return copy.deepcopy(patch)
    result = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"{field}: every item needs the merge key {key!r}")
        index = next((i for i, t in enumerate(result) if t.get(key) == item[key]), None)
        directive = item.get("$patch")
        if directive == "delete":
            if index is not None:
                result.pop(index)
            continue
        body = {k: v for k, v in item.items() if k != "$patch"}
        if index is None:
            result.append(strategic_merge(None, body))
        elif directive == "replace":
            result[index] = copy.deepcopy(body)
        else:
            result[index] = strategic_merge(result[index], body)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch: like a merge patch, but lists of named things merge by key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # $patch, $retainKeys, $setElementOrder/...: ordering hints
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif isinstance(value, list):
            result[key] = [
                {k: v for k, v in i.items() if k != "$patch"} if isinstance(i, dict) else i
                for i in value
                if not (isinstance(i, dict) and i.get("$patch") == "delete")
            ]
        else:
            result[key] = strategic_merge(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"json patch: invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise bad_request(f"json patch: path {path!r} does not exist") from None
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    try:
        return parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
    except (KeyError, IndexError, ValueError):
        raise bad_request(f"json patch: path {path!r} does not exist") from None


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if index > len(parent):
            raise bad_request(f"json patch: index out of range in {path!r}")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise bad_request(f"json patch: cannot add below a scalar at {path!r}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    try:
        if isinstance(parent, list):
            parent.pop(int(parts[-1]))
        else:
            del parent[parts[-1]]
    except (KeyError, IndexError, ValueError):
        raise bad_request(f"json patch: path {path!r} does not exist") from None
    return doc


def json_patch(target: Any, operations: list[dict[str, Any]]) -> Any:
    """RFC 6902: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(target)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc = _add(_remove(doc, path), path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from", "")))
            if kind == "move":
                doc = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid", f"testing value at {path!r} failed")
        else:
            raise bad_request(f"json patch: unknown op {kind!r}")
    return doc


PATCH_TYPES = {
    "application/strategic-merge-patch+json": "strategic",
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
}


def apply_patch(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    flavour = PATCH_TYPES.get(content_type.split(";")[0].strip())
    if flavour is None:
        raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown "
                       f"format - accepted media types include: {', '.join(PATCH_TYPES)}")
    if flavour == "json":
        if not isinstance(patch, list):
            raise bad_request("json patch: the body must be a list of operations")
        return json_patch(target, patch)
    if not isinstance(patch, dict):
        raise bad_request(f"{flavour} merge patch: the body must be an object")
    return merge_patch(target, patch) if flavour == "merge" else strategic_merge(target, patch)
