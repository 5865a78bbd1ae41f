"""`image:` (a project image) on an API or on `kind: deployment`."""

from __future__ import annotations

from pathlib import Path

from cortex_tui.config import validate_text
from cortex_tui.config.model import Problem, Project

INFERENCE = "def predict(sample, metadata):\n    return 1\n"


def _validate(tmp_path: Path, text: str) -> tuple[Project | None, list[Problem]]:
    (tmp_path / "inference.py").write_text(INFERENCE)
    return validate_text(text, tmp_path)


def test_the_deployment_image_applies_to_apis_without_their_own(tmp_path: Path) -> None:
    project, problems = _validate(tmp_path, """\
- kind: api
  name: a
  python: {inference: inference.py}
- kind: api
  name: b
  image: registry.example.com:5000/team/b:2
  python: {inference: inference.py}
- kind: deployment
  name: shop
  image: registry.example.com/team/shop:1.4@sha256:%s
""" % ("0" * 64))
    assert problems == [] and project is not None
    assert [api.image for api in project.apis] == [
        f"registry.example.com/team/shop:1.4@sha256:{'0' * 64}",
        "registry.example.com:5000/team/b:2"]
    assert project.apis[0].to_dict()["image"] == project.apis[0].image


def test_no_image_by_default_and_a_bad_reference_is_named_with_its_line(tmp_path: Path) -> None:
    project, problems = _validate(tmp_path, "- kind: api\n  name: a\n  python: {inference: "
                                  "inference.py}\n")
    assert project is not None and project.apis[0].image is None
    _, problems = _validate(tmp_path, "- kind: api\n  name: a\n  image: Not An Image\n"
                            "  python: {inference: inference.py}\n")
    assert [str(p) for p in problems] == [
        'cortex.yaml:3:10: api "a": image: must be a container image reference such as '
        'registry.example.com/team/iris:1.2 (got "Not An Image")']
