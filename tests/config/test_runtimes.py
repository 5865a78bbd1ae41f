"""`onnx:` and `tensorflow:` APIs: their sections, models, request handlers and migration hints."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cortex_tui.config import load_project, validate_project
from tests.config.conftest import EXAMPLES

MakeProject = Callable[..., Path]
IRIS_ONNX = EXAMPLES / "iris-onnx" / "models" / "iris.onnx"
IRIS_TF = EXAMPLES / "iris-tensorflow" / "models" / "iris-tf"
HANDLER = ("def pre_inference(sample, signature, metadata):\n    return sample\n\n"
           "def post_inference(prediction, signature, metadata):\n    return prediction\n")


def onnx_api(extra: str = "", model: str = "model.onnx") -> str:
    return f"- kind: api\n  name: iris\n  onnx:\n    model: {model}\n{extra}"


def problems_of(root: Path) -> list[str]:
    project, problems = validate_project(root)
    assert project is None
    return [str(p) for p in problems]


def with_onnx(make_project: MakeProject, text: str, files: dict[str, str] | None = None) -> Path:
    root = make_project(text, files)
    shutil.copy(IRIS_ONNX, root / "model.onnx")
    return root


def test_an_onnx_api_loads_with_its_model_and_handler(make_project: MakeProject) -> None:
    root = with_onnx(make_project, onnx_api("    request_handler: ./h.py\n"), {"h.py": HANDLER})
    spec = load_project(root).api("iris")
    assert (spec.runtime, spec.model, spec.request_handler) == ("onnx", "model.onnx", "h.py")
    assert spec.to_dict()["onnx"] == {"model": "model.onnx", "request_handler": "h.py",
                                      "server_side_batching": None}
    assert "python" not in spec.to_dict()


def test_an_s3_model_is_taken_as_is(make_project: MakeProject) -> None:
    spec = load_project(make_project(onnx_api(model="s3://models-bucket/iris/1.onnx")))
    assert spec.apis[0].model == "s3://models-bucket/iris/1.onnx"


def test_runtime_sections_are_exactly_one(make_project: MakeProject) -> None:
    text = ("- kind: api\n  name: a\n  python: {inference: inference.py}\n"
            "  onnx: {model: model.onnx}\n"
            "- kind: api\n  name: b\n  tracker: {model_type: regression}\n")
    assert problems_of(with_onnx(make_project, text)) == [
        "cortex.yaml:4:3: api \"a\": onnx: only one runtime per API: remove 'onnx:' or 'python:'",
        "cortex.yaml:5:3: api \"b\": needs one runtime: 'python: {inference: FILE}', "
        "'onnx: {model: FILE}' or 'tensorflow: {model: PATH}'",
    ]


def test_model_paths_are_checked(make_project: MakeProject, tmp_path: Path) -> None:
    (tmp_path / "outside.onnx").write_bytes(IRIS_ONNX.read_bytes())
    text = (onnx_api(model="../outside.onnx")
            + onnx_api(model="missing.onnx").replace("name: iris", "name: b")
            + onnx_api(model="notes.onnx").replace("name: iris", "name: c")
            + onnx_api(model="s3://x/").replace("name: iris", "name: d"))
    found = problems_of(make_project(text, {"notes.onnx": "just text\n"}))
    assert found[0] == ('cortex.yaml:4:12: api "iris": onnx.model: must stay inside the '
                        "project folder (got \"../outside.onnx\")")
    assert found[1].startswith('cortex.yaml:8:12: api "b": onnx.model: file not found: '
                               "missing.onnx")
    assert found[2].startswith('cortex.yaml:12:12: api "c": onnx.model: is not an ONNX model')
    assert found[3].startswith('cortex.yaml:16:12: api "d": onnx.model: must be s3://BUCKET/KEY')
    assert len(found) == 4


def test_handler_signatures_are_checked_at_the_handlers_lines(make_project: MakeProject) -> None:
    handler = ("import json\n\n"
               "def pre_inference(sample, metadata):\n    return sample\n\n"
               "def post_inference(prediction, signature, metadata, extra=1):\n"
               "    return prediction\n")
    text = onnx_api("    request_handler: handler.py\n")
    assert problems_of(with_onnx(make_project, text, {"handler.py": handler})) == [
        'handler.py:3:27: api "iris": must be defined as pre_inference(sample, signature, '
        "metadata) (got pre_inference(sample, metadata))",
        'handler.py:6:53: api "iris": must be defined as post_inference(prediction, signature, '
        "metadata) (got post_inference(prediction, signature, metadata, extra))",
        'handler.py:6:59: api "iris": post_inference(prediction, signature, metadata): '
        "parameters must not have default values",
    ]


def test_a_handler_needs_one_of_its_functions(make_project: MakeProject) -> None:
    text = onnx_api("    request_handler: handler.py\n")
    root = with_onnx(make_project, text, {"handler.py": "def predict(sample, metadata):\n  0\n"})
    assert problems_of(root) == [
        'handler.py:1:1: api "iris": must define pre_inference(sample, signature, metadata) '
        "or post_inference(prediction, signature, metadata)"]


def test_keys_of_the_later_platform_get_migration_hints(make_project: MakeProject) -> None:
    text = ("- kind: deployment\n  name: shop\n  python_root: src\n"
            "- kind: api\n  name: iris\n  predictor:\n    type: python\n    path: inference.py\n")
    found = problems_of(make_project(text, {"inference.py": (
        "def init(model_path, metadata):\n    pass\n\n"
        "def predict(sample, metadata):\n    return sample\n")}))
    assert found == [
        "cortex.yaml:3:3: python_root: is not needed: delete it (the inference file's folder "
        "is already on sys.path)",
        'cortex.yaml:6:3: api "iris": predictor: is the original platform\'s later spelling: '
        "write 'python: {inference: PATH}' (or 'onnx:' / 'tensorflow:' with 'model: PATH') "
        "and move predictor.metadata to the API's 'metadata'",
    ]
    text = "- kind: api\n  name: iris\n  python: {inference: inference.py}\n"
    root = make_project(text, {"inference.py": (
        "def init(model_path, metadata):\n    pass\n\n"
        "def predict(sample, metadata):\n    return sample\n")})
    assert problems_of(root) == [
        'inference.py:1:1: api "iris": init(model_path, metadata) is the original platform\'s '
        "later form: write init(metadata) (put the model's path in metadata, or use an 'onnx:' "
        "/ 'tensorflow:' API with 'model: PATH')"]


def tf_api(model: str, extra: str = "") -> str:
    return f"- kind: api\n  name: iris\n  tensorflow:\n    model: {model}\n{extra}"


@pytest.fixture
def tf_project(make_project: MakeProject) -> Callable[..., Path]:
    def make(text: str, name: str = "proj") -> Path:
        root = make_project(text, name=name)
        shutil.copytree(IRIS_TF / "1", root / "models" / "iris" / "3")
        return root
    return make


def test_a_saved_model_folder_or_its_versions_parent(tf_project: Callable[..., Path]) -> None:
    spec = load_project(tf_project(tf_api("models/iris/3"))).api("iris")
    assert (spec.runtime, spec.model, spec.signature_key) == ("tensorflow", "models/iris/3", None)
    spec = load_project(tf_project(tf_api("models/iris", "    signature_key: serving_default\n"),
                                   "other"))
    assert spec.apis[0].signature_key == "serving_default"


def test_a_saved_model_is_checked(tf_project: Callable[..., Path]) -> None:
    root = tf_project(tf_api("models/iris", "    signature_key: predict_proba\n"))
    (root / "models" / "empty").mkdir()
    text = (root / "cortex.yaml").read_text()
    (root / "cortex.yaml").write_text(text + tf_api("models/empty").replace("iris\n", "b\n", 1))
    found = problems_of(root)
    assert found == [
        "cortex.yaml:5:20: api \"iris\": tensorflow.signature_key: signature 'predict_proba' "
        "not in the model (it has: serving_default)",
        'cortex.yaml:9:12: api "b": tensorflow.model: is not a TensorFlow SavedModel: '
        "saved_model.pb and variables/ missing in empty/ (a SavedModel folder, a parent of "
        "numbered versions, or a .zip)",
    ]


def test_a_zipped_saved_model(tf_project: Callable[..., Path]) -> None:
    root = tf_project(tf_api("iris.zip"))
    with zipfile.ZipFile(root / "iris.zip", "w") as archive:
        for file in sorted((root / "models" / "iris" / "3").rglob("*")):
            archive.write(file, "iris/" + file.relative_to(root / "models/iris/3").as_posix())
    assert load_project(root).api("iris").model == "iris.zip"
    (root / "cortex.yaml").write_text(tf_api("models/iris/3/saved_model.pb"))
    assert problems_of(root) == [
        'cortex.yaml:4:12: api "iris": tensorflow.model: must be a SavedModel folder, a parent '
        "of numbered versions, or a .zip of one"]
