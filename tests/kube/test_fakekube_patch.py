"""The fake's patch flavours as pure functions, on the cases kubectl and the client produce."""

from __future__ import annotations

import pytest

from tests.helpers.fakekube.patch import apply_patch, json_patch, merge_patch, strategic_merge
from tests.helpers.fakekube.quantity import canonical
from tests.helpers.fakekube.resources import ApiError
from tests.helpers.fakekube.selectors import matches_labels

POD_SPEC = {
    "containers": [
        {"name": "a", "image": "a:1", "ports": [{"containerPort": 80, "name": "http"}],
         "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
        {"name": "b", "image": "b:1"},
    ],
    "volumes": [{"name": "v", "emptyDir": {}}],
    "tolerations": [{"key": "t1"}],
}


def test_named_lists_merge_by_key_other_lists_are_replaced() -> None:
    merged = strategic_merge(POD_SPEC, {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}],
                        "ports": [{"containerPort": 81}]},
                       {"name": "c", "image": "c:1"}],
        "tolerations": [{"key": "t2"}],
    })
    a = merged["containers"][0]
    assert a["image"] == "a:1"
    assert a["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]
    assert a["ports"] == [{"containerPort": 80, "name": "http"}, {"containerPort": 81}]
    assert [c["name"] for c in merged["containers"]] == ["a", "b", "c"]
    assert merged["tolerations"] == [{"key": "t2"}]
    assert POD_SPEC["containers"][0]["image"] == "a:1"  # the input is not modified


def test_directives_delete_and_replace() -> None:
    merged = strategic_merge(POD_SPEC, {
        "containers": [{"name": "b", "$patch": "delete"},
                       {"name": "a", "$patch": "replace", "image": "a:2"}],
        "volumes": None,
    })
    assert merged["containers"] == [{"name": "a", "image": "a:2"}]
    assert "volumes" not in merged
    assert strategic_merge({"x": {"y": 1, "z": 2}}, {"x": {"$patch": "replace", "y": 3}}) == {
        "x": {"y": 3}}


def test_merge_patch_replaces_lists_and_nulls_remove() -> None:
    merged = merge_patch(POD_SPEC, {"containers": [{"name": "a"}], "volumes": None,
                                    "extra": {"k": "v"}})
    assert merged["containers"] == [{"name": "a"}]
    assert "volumes" not in merged and merged["extra"] == {"k": "v"}


def test_json_patch_operations() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    assert json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                            {"op": "move", "from": "/b/c", "path": "/d"},
                            {"op": "copy", "from": "/d", "path": "/e"},
                            {"op": "replace", "path": "/a/0", "value": 0},
                            {"op": "test", "path": "/e", "value": 1}]) == {
        "a": [0, 2, 3], "b": {}, "d": 1, "e": 1}
    with pytest.raises(ApiError) as missing:
        json_patch(doc, [{"op": "remove", "path": "/nope"}])
    assert missing.value.code == 400


def test_unknown_patch_type_is_415() -> None:
    with pytest.raises(ApiError) as unsupported:
        apply_patch("application/apply-patch+yaml", {}, {})
    assert unsupported.value.code == 415


@pytest.mark.parametrize(("given", "stored"), [
    ("1000m", "1"), ("0.5", "500m"), ("1073741824", "1073741824"), ("1024Mi", "1Gi"),
    ("500000000", "500M"), (2, "2"), ("1.5Gi", "1536Mi"),
])
def test_quantities_are_stored_canonically(given: str | int, stored: str) -> None:
    assert canonical(given) == stored


def test_label_selector_grammar() -> None:
    obj = {"metadata": {"labels": {"app": "web", "tier": "front"}}}
    assert matches_labels(obj, "app=web,tier in (front,back),!missing,env notin (prod)")
    assert not matches_labels(obj, "app==web,tier!=front")
    with pytest.raises(ApiError):
        matches_labels(obj, "app=(")
