"""The table of SPEC §2-§3 rules: each case's exact problems (file, line, column, key path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cortex_tui.config import validate_project
from tests.config.cases import BASE, Expect, api

E = Expect


def named(name: str) -> str:
    return BASE.replace("name: classifier", f"name: {name}")


def python(value: str) -> str:
    return BASE.replace("inference: inference.py", f"inference: {value}")


def compute(line: str) -> str:
    return api(f"  compute:\n    {line}\n")


def batching(*lines: str) -> str:
    return api("    server_side_batching:\n" + "".join(f"      {line}\n" for line in lines))


def inflight(*lines: str) -> str:
    return api("  compute:\n    autoscale_on: in_flight\n"
               + "".join(f"    {line}\n" for line in lines))


def tracker(*lines: str) -> str:
    return api("  tracker:\n" + "".join(f"    {line}\n" for line in lines))


# With server_side_batching, predict's first parameter is named for the list it receives.
BATCHED = {"inference.py": "def predict(samples, metadata):\n    return samples\n"}
DNS_1035 = "must be a DNS-1035 label"
GT0 = "must be greater than 0"
INT = "must be an integer"
QTY = "must be a Kubernetes quantity"

# (id, cortex.yaml text, extra files, expected problems in order)
CASES: list[tuple[str, str, dict[str, str], list[Expect]]] = [
    # -- name ---------------------------------------------------------------------------
    ("name-missing", "- kind: api\n  python:\n    inference: inference.py\n", {},
     [E(1, 3, "name", "is required", api=None)]),
    ("name-upper", named("Classifier"), {}, [E(2, 9, "name", DNS_1035, api="Classifier")]),
    ("name-digit-first", named("1abc"), {}, [E(2, 9, "name", DNS_1035, api="1abc")]),
    ("name-dash-last", named("abc-"), {}, [E(2, 9, "name", DNS_1035, api="abc-")]),
    ("name-underscore", named("my_api"), {}, [E(2, 9, "name", '(got "my_api")', api="my_api")]),
    ("name-too-long", named("a" * 64), {}, [E(2, 9, "name", "at most 63", api="a" * 64)]),
    ("name-int", named("5"), {}, [E(2, 9, "name", "(got 5)", api=None)]),
    ("name-null", named("~"), {}, [E(2, 9, "name", "(got null)", api=None)]),
    ("name-duplicate", BASE + BASE, {},
     [E(6, 9, "name", "duplicate API name (first at line 2)")]),
    # -- python.inference -------------------------------------------------------------------
    ("python-missing", "- kind: api\n  name: classifier\n", {},
     [E(1, 3, "", "needs one runtime: 'python: {inference: FILE}', 'onnx: {model: FILE}'")]),
    ("python-empty-map", api().replace("  python:\n    inference: inference.py\n",
                                       "  python: {}\n"), {},
     [E(3, 11, "python.inference", "is required")]),
    ("python-string", api().replace("  python:\n    inference: inference.py\n",
                                    "  python: inference.py\n"), {},
     [E(3, 11, "python", 'must be a map (got "inference.py")')]),
    ("python-null", api().replace("  python:\n    inference: inference.py\n", "  python:\n"),
     {}, [E(3, 3, "python", "must be a map (got null)")]),
    ("inference-absolute", python("/srv/inference.py"), {},
     [E(4, 16, "python.inference", "must be a path relative to the project folder")]),
    ("inference-dotdot", python("../inference.py"), {},
     [E(4, 16, "python.inference", "must stay inside the project folder")]),
    ("inference-deep-dotdot", python("sub/../../x.py"), {},
     [E(4, 16, "python.inference", "must stay inside the project folder")]),
    ("inference-not-py", python("model.txt"), {"model.txt": "x"},
     [E(4, 16, "python.inference", 'must be a .py file (got "model.txt")')]),
    ("inference-missing-file", python("nope.py"), {},
     [E(4, 16, "python.inference", "file not found: nope.py")]),
    ("inference-folder", python("pkg.py"), {"pkg.py/x.txt": ""},
     [E(4, 16, "python.inference", "must be a file, not a folder")]),
    ("inference-empty", python('""'), {},
     [E(4, 16, "python.inference", 'must be a non-empty string (got "")')]),
    ("inference-int", python("3"), {}, [E(4, 16, "python.inference", "(got 3)")]),
    ("inference-backslash", python('"src\\\\model.py"'), {},
     [E(4, 16, "python.inference", "must use '/' as the path separator")]),
    # -- tracker ------------------------------------------------------------------------
    ("tracker-bad-type", tracker("model_type: foo"), {},
     [E(6, 17, "tracker.model_type",
        'must be "classification" or "regression" (got "foo")')]),
    ("tracker-type-missing", tracker("key: label"), {},
     [E(6, 5, "tracker.model_type", "is required")]),
    ("tracker-type-missing-flow", api("  tracker: {key: label}\n"), {},
     [E(5, 12, "tracker.model_type", "is required")]),
    ("tracker-empty-key", tracker("model_type: classification", 'key: ""'), {},
     [E(7, 10, "tracker.key", "must be a non-empty string")]),
    ("tracker-int-key", tracker("model_type: classification", "key: 3"), {},
     [E(7, 10, "tracker.key", "(got 3)")]),
    ("tracker-unknown-key", tracker("model_type: regression", "kye: label"), {},
     [E(7, 5, "tracker.kye", 'unknown key "kye"; did you mean "key"?')]),
    ("tracker-list", api("  tracker: [classification]\n"), {},
     [E(5, 12, "tracker", "must be a map (got a list)")]),
    # -- compute: replicas -----------------------------------------------------------------
    ("min-zero", compute("min_replicas: 0"), {},
     [E(6, 19, "compute.min_replicas", "must be greater than 0 (got 0)")]),
    ("min-negative", compute("min_replicas: -1"), {},
     [E(6, 19, "compute.min_replicas", "must be 0 or more (got -1)")]),
    ("min-float", compute("min_replicas: 1.5"), {},
     [E(6, 19, "compute.min_replicas", f"{INT} (got 1.5)")]),
    ("min-float-whole", compute("min_replicas: 2.0"), {},
     [E(6, 19, "compute.min_replicas", f"{INT} (got 2.0)")]),
    ("min-string", compute('min_replicas: "2"'), {},
     [E(6, 19, "compute.min_replicas", f'{INT} (got "2")')]),
    ("min-bool", compute("min_replicas: true"), {},
     [E(6, 19, "compute.min_replicas", f"{INT} (got true)")]),
    ("max-zero", compute("max_replicas: 0"), {},
     [E(6, 19, "compute.max_replicas", f"{GT0} (got 0)")]),
    ("init-zero", compute("init_replicas: 0"), {},
     [E(6, 20, "compute.init_replicas", "between min_replicas (1) and max_replicas (100)")]),
    ("init-above-max", api("  compute:\n    max_replicas: 3\n    init_replicas: 4\n"), {},
     [E(7, 20, "compute.init_replicas",
        "must be between min_replicas (1) and max_replicas (3) (got 4)")]),
    ("init-below-min", api("  compute:\n    min_replicas: 2\n    init_replicas: 1\n"), {},
     [E(7, 20, "compute.init_replicas", "between min_replicas (2) and max_replicas (100)")]),
    ("min-above-max", api("  compute:\n    min_replicas: 5\n    max_replicas: 3\n"), {},
     [E(6, 19, "compute.min_replicas",
        "must be less than or equal to max_replicas (3) (got 5)")]),
    # Every replica problem at once, even when min_replicas is itself wrong.
    ("init-above-max-and-min-above-max",
     api("  compute: {min_replicas: 3, max_replicas: 2, init_replicas: 5}\n"), {},
     [E(5, 27, "compute.min_replicas", "max_replicas (2) (got 3)"),
      E(5, 62, "compute.init_replicas",
        "must be less than or equal to max_replicas (2) (got 5)")]),
    ("init-above-max-and-min-zero",
     api("  compute:\n    min_replicas: 0\n    init_replicas: 5\n    max_replicas: 3\n"), {},
     [E(6, 19, "compute.min_replicas", f"{GT0} (got 0)"),
      E(7, 20, "compute.init_replicas", "max_replicas (3) (got 5)")]),
    ("init-below-min-and-max-zero",
     api("  compute:\n    min_replicas: 4\n    init_replicas: 2\n    max_replicas: 0\n"), {},
     [E(7, 20, "compute.init_replicas",
        "must be greater than or equal to min_replicas (4) (got 2)"),
      E(8, 19, "compute.max_replicas", f"{GT0} (got 0)")]),
    ("min-above-default-max", compute("min_replicas: 101"), {},
     [E(6, 19, "compute.min_replicas", "max_replicas (100) (got 101)")]),
    ("max-below-default-min-is-fine", compute("max_replicas: 1"), {}, []),
    # -- compute: cpu, target, gpu, mem --------------------------------------------------
    ("target-zero", compute("target_cpu_utilization: 0"), {},
     [E(6, 29, "compute.target_cpu_utilization", "must be between 1 and 100 (got 0)")]),
    ("target-101", compute("target_cpu_utilization: 101"), {},
     [E(6, 29, "compute.target_cpu_utilization", "must be between 1 and 100 (got 101)")]),
    ("target-float", compute("target_cpu_utilization: 80.5"), {},
     [E(6, 29, "compute.target_cpu_utilization", f"{INT} (got 80.5)")]),
    ("cpu-zero", compute("cpu: 0"), {}, [E(6, 10, "compute.cpu", f"{GT0} (got 0)")]),
    ("cpu-zero-millis", compute("cpu: 0m"), {}, [E(6, 10, "compute.cpu", f'{GT0} (got "0m")')]),
    ("cpu-negative", compute('cpu: "-1"'), {}, [E(6, 10, "compute.cpu", f'{GT0} (got "-1")')]),
    ("cpu-garbage", compute("cpu: lots"), {}, [E(6, 10, "compute.cpu", f'{QTY}')]),
    ("cpu-bool", compute("cpu: true"), {}, [E(6, 10, "compute.cpu", "(got true)")]),
    ("cpu-space", compute('cpu: "1 m"'), {}, [E(6, 10, "compute.cpu", QTY)]),
    ("cpu-huge-exponent", compute("cpu: 1e" + "9" * 5000), {},
     [E(6, 10, "compute.cpu", 'is too large (got "1e999')]),
    ("cpu-arabic-digit", compute("cpu: \u0661"), {}, [E(6, 10, "compute.cpu", QTY)]),
    ("cpu-tiny-exponent", compute("cpu: 1e-40"), {}, []),
    ("gpu-negative", compute("gpu: -1"), {}, [E(6, 10, "compute.gpu", "must be 0 or more")]),
    ("gpu-float", compute("gpu: 1.0"), {}, [E(6, 10, "compute.gpu", f"{INT} (got 1.0)")]),
    ("mem-gb", compute("mem: 1GB"), {}, [E(6, 10, "compute.mem", f'{QTY} such as "1Gi"')]),
    ("mem-zero", compute("mem: 0"), {}, [E(6, 10, "compute.mem", f"{GT0} (got 0)")]),
    ("mem-negative", compute("mem: -1Gi"), {}, [E(6, 10, "compute.mem", f'{GT0} (got "-1Gi")')]),
    ("mem-list", compute("mem: [1]"), {}, [E(6, 10, "compute.mem", "(got a list)")]),
    # -- compute: serving settings -------------------------------------------------------
    ("threads-zero", compute("threads_per_replica: 0"), {},
     [E(6, 26, "compute.threads_per_replica", "must be between 1 and 256 (got 0)")]),
    ("threads-257", compute("threads_per_replica: 257"), {},
     [E(6, 26, "compute.threads_per_replica", "must be between 1 and 256 (got 257)")]),
    ("concurrency-zero", compute("max_concurrency: 0"), {},
     [E(6, 22, "compute.max_concurrency", "must be between 1 and 4096 (got 0)")]),
    ("concurrency-float", compute("max_concurrency: 1.5"), {},
     [E(6, 22, "compute.max_concurrency", f"{INT} (got 1.5)")]),
    ("queue-negative", compute("queue_size: -1"), {},
     [E(6, 17, "compute.queue_size", "must be 0 or more (got -1)")]),
    ("queue-string", compute("queue_size: many"), {},
     [E(6, 17, "compute.queue_size", f'{INT} (got "many")')]),
    ("body-zero", compute('max_body_size: "0"'), {},
     [E(6, 20, "compute.max_body_size", f'{GT0} (got "0")')]),
    ("body-garbage", compute("max_body_size: 10MB"), {},
     [E(6, 20, "compute.max_body_size", QTY)]),
    ("body-over-mem", api("  compute:\n    mem: 128Mi\n    max_body_size: 64Mi\n"), {},
     [E(7, 20, "compute.max_body_size", "cannot fit compute.mem (128Mi): a body and its "
        "parsed objects need more; at most 32Mi (a quarter of mem) (got 64Mi)")]),
    # -- python.server_side_batching -----------------------------------------------------
    ("batch-size-missing", batching("batch_interval: 10ms"), BATCHED,
     [E(6, 7, "python.server_side_batching.max_batch_size", "required")]),
    ("batch-size-one", batching("max_batch_size: 1", "batch_interval: 10ms"), BATCHED,
     [E(6, 23, "python.server_side_batching.max_batch_size",
        "must be between 2 and 1024 (got 1)")]),
    ("batch-size-2000", batching("max_batch_size: 2000", "batch_interval: 10ms"), BATCHED,
     [E(6, 23, "python.server_side_batching.max_batch_size",
        "must be between 2 and 1024 (got 2000)")]),
    ("batch-interval-missing", batching("max_batch_size: 8"), BATCHED,
     [E(6, 7, "python.server_side_batching.batch_interval", "required")]),
    ("batch-interval-number", batching("max_batch_size: 8", "batch_interval: 10"), BATCHED,
     [E(7, 23, "python.server_side_batching.batch_interval",
        'must be a duration such as "10ms", "0.5s" or "250us" (got 10)')]),
    ("batch-interval-zero", batching("max_batch_size: 8", "batch_interval: 0ms"), BATCHED,
     [E(7, 23, "python.server_side_batching.batch_interval",
        'must be greater than 0 and at most 60s (got "0ms")')]),
    ("batch-typo", batching("max_batch: 8", "batch_interval: 5ms"), BATCHED,
     [E(6, 7, "python.server_side_batching.max_batch", 'did you mean "max_batch_size"?'),
      E(6, 7, "python.server_side_batching.max_batch_size", "required")]),
    ("batch-predict-of-one-sample", batching("max_batch_size: 8", "batch_interval: 5ms"), {},
     [E(1, 13, "", "must be defined as predict(samples, metadata) (got predict(sample, "
        "metadata))", file="inference.py")]),
    # -- compute: structure --------------------------------------------------------------
    ("compute-unknown-key", compute("replicas: 3"), {},
     [E(6, 5, "compute.replicas", 'unknown key "replicas"')]),
    ("compute-typo", compute("min_replica: 3"), {},
     [E(6, 5, "compute.min_replica", 'did you mean "min_replicas"?')]),
    ("compute-list", api("  compute: [1]\n"), {}, [E(5, 12, "compute", "must be a map")]),
    # -- metadata ------------------------------------------------------------------------
    ("metadata-int-key", api("  metadata:\n    1: one\n"), {},
     [E(6, 5, "metadata[1]", "keys must be strings (got 1)")]),
    ("metadata-list", api("  metadata: [a]\n"), {},
     [E(5, 13, "metadata", "must be a map (got a list)")]),
    ("metadata-scalar", api("  metadata: hello\n"), {},
     [E(5, 13, "metadata", 'must be a map (got "hello")')]),
    ("metadata-binary", api("  metadata:\n    blob: !!binary aGVsbG8=\n"), {},
     [E(6, 11, "metadata.blob", "unsupported YAML tag !!binary")]),
    ("metadata-date-is-fine", api("  metadata:\n    release: 2024-01-01\n    2024-02-02: x\n"),
     {}, []),
    # -- the file's structure ------------------------------------------------------------
    ("file-empty", "", {}, [E(1, 1, "", "got an empty file", api=None)]),
    ("file-comment-only", "# nothing yet\n", {}, [E(1, 1, "", "got an empty file", api=None)]),
    ("file-map", "kind: api\nname: x\n", {}, [E(1, 1, "", "(got a map)", api=None)]),
    ("file-scalar", "hello\n", {}, [E(1, 1, "", '(got "hello")', api=None)]),
    ("file-empty-list", "[]\n", {},
     [E(1, 1, "", "must contain at least one 'kind: api' entry", api=None)]),
    ("item-scalar", BASE + "- classifier\n", {},
     [E(5, 3, "", "each resource must be a map", api=None)]),
    ("kind-missing", BASE + "- name: other\n", {},
     [E(5, 3, "kind", 'is required: "api" or "deployment"', api=None)]),
    ("kind-unknown", BASE + "- kind: model\n", {},
     [E(5, 9, "kind", 'must be "api" or "deployment" (got "model")', api=None)]),
    ("unknown-top-key", api("  pyhton: 3\n"), {},
     [E(5, 3, "pyhton", 'unknown key "pyhton"')]),
    ("duplicate-key", api("  python:\n    inference: inference.py\n"), {},
     [E(5, 3, "python", 'duplicate key "python" (first at line 3)')]),
    ("duplicate-nested-key", api("  compute:\n    cpu: 1\n    cpu: 2\n"), {},
     [E(7, 5, "compute.cpu", 'duplicate key "cpu" (first at line 6)')]),
    ("syntax-error", api("  metadata: {a: 1}}\n"), {},
     [E(5, 19, "", "YAML syntax error", api=None)]),
    ("syntax-tab", api("  compute:\n\tcpu: 1\n"), {},
     [E(6, 1, "", "YAML syntax error: tab character: indent with spaces", api=None)]),
    # Unclosed things point where they were opened, not at the end of the file.
    ("syntax-unclosed-quote", api('  metadata: {a: "b}\n'), {},
     [E(5, 17, "", "YAML syntax error: unclosed quote", api=None)]),
    ("syntax-unclosed-bracket", api("  metadata: [a, b\n\n\n"), {},
     [E(5, 13, "", "YAML syntax error: unclosed '['", api=None)]),
    ("syntax-missing-colon", api("  compute\n    cpu: 1\n"), {},
     [E(5, 3, "", "YAML syntax error: expected 'key: value'", api=None)]),
    ("syntax-bad-indentation", api("  compute:\n    cpu: 1\n   mem: 1Gi\n"), {},
     [E(7, 4, "", "YAML syntax error: bad indentation", api=None)]),
    ("syntax-colon-in-value", api("  metadata: a: b\n"), {},
     [E(5, 14, "", "YAML syntax error: unexpected ':'", api=None)]),
    ("two-documents", BASE + "---\n" + BASE, {},
     [E(5, 1, "", "only one YAML document is allowed", api=None)]),
    ("unsafe-tag", api("  metadata: !!python/object/apply:os.system [ls]\n"), {},
     [E(5, 13, "metadata", "unsupported YAML tag !!python/object/apply:os.system")]),
    ("custom-tag", api("  metadata: {a: !secret x}\n"), {},
     [E(5, 17, "metadata.a", "unsupported YAML tag !secret")]),
    ("huge-int", compute("min_replicas: " + "9" * 5000), {},
     [E(6, 19, "compute.min_replicas", "too many digits")]),
    ("int-tag-on-text", compute("gpu: !!int many"), {},
     [E(6, 10, "compute.gpu", "cannot read this value")]),
    ("merge-of-a-scalar", api("  compute: {<<: 1, min_replicas: 0}\n"), {},
     [E(5, 17, "compute", "a merge key (<<) needs a map"),
      E(5, 34, "compute.min_replicas", f"{GT0} (got 0)")]),
    ("nul-character", api("  metadata: {a: b\x00}\n"), {},
     [E(5, 18, "", "U+0000 is not allowed", api=None)]),
    ("deep-nesting", "[" * 3000 + "]" * 3000, {},
     [E(1, 1, "", "YAML syntax error: nested too deeply", api=None)]),
    ("alias-bomb", "".join(f"{n}: &{n} [{', '.join([f'*{n - 1}' if n else 'x'] * 9)}]\n"
                           for n in range(7)), {},
     [E(1, 1, "", "too large: more than 50000 values (each use of an alias counts",
        api=None)]),
    ("recursive-alias", "- &a [*a]\n", {},
     [E(1, 3, "", "each resource must be a map starting with 'kind: api' (got a list)",
        api=None),
      E(1, 3, "[0]", "an alias refers to itself", api=None)]),
    # -- kind: deployment ----------------------------------------------------------------
    ("deployment-bad-name", BASE + "- kind: deployment\n  name: Bad_Name\n", {},
     [E(6, 9, "name", "must be a DNS-1123 label", api=None)]),
    ("deployment-unknown-key", BASE + "- kind: deployment\n  region: eu\n", {},
     [E(6, 3, "region", 'unknown key "region"', api=None)]),
    ("deployment-twice", BASE + "- kind: deployment\n- kind: deployment\n", {},
     [E(6, 9, "kind", "only one 'kind: deployment' entry is allowed (first at line 5)",
        api=None)]),
    ("deployment-only", "- kind: deployment\n  name: ok\n", {},
     [E(1, 1, "", "at least one 'kind: api' entry", api=None)]),
    # -- the inference file (positions in that file) ----------------------------------------
    ("predict-missing", BASE, {"inference.py": "x = 1\n"},
     [E(1, 1, "", "must define predict(sample, metadata)", file="inference.py")]),
    ("predict-wrong-name", BASE, {"inference.py": "def predict(payload, metadata):\n  pass\n"},
     [E(1, 13, "", "(got predict(payload, metadata))", file="inference.py")]),
    ("predict-too-few", BASE, {"inference.py": "\n\ndef predict(sample):\n  pass\n"},
     [E(3, 1, "", "must be defined as predict(sample, metadata)", file="inference.py")]),
    ("predict-default", BASE, {"inference.py": "def predict(sample, metadata={}):\n  pass\n"},
     [E(1, 30, "", "must not have default values", file="inference.py")]),
    ("predict-varargs", BASE, {"inference.py": "def predict(sample, metadata, *rest):\n  pass\n"},
     [E(1, 32, "", "must not take *rest", file="inference.py")]),
    ("predict-kwargs", BASE, {"inference.py": "def predict(sample, metadata, **kw):\n  pass\n"},
     [E(1, 33, "", "must not take **kw", file="inference.py")]),
    ("predict-keyword-only", BASE,
     {"inference.py": "def predict(sample, metadata, *, debug):\n  pass\n"},
     [E(1, 34, "", "keyword-only parameter 'debug'", file="inference.py")]),
    ("init-wrong-name", BASE,
     {"inference.py": "def init(meta):\n  pass\ndef predict(sample, metadata):\n  pass\n"},
     [E(1, 10, "", "must be defined as init(metadata) (got init(meta))", file="inference.py")]),
    ("init-two-params", BASE,
     {"inference.py": "def init(metadata, x):\n  pass\ndef predict(sample, metadata):\n  pass\n"},
     [E(1, 20, "", "(got init(metadata, x))", file="inference.py")]),
    ("inference-syntax-error", BASE,
     {"inference.py": "import os\n\ndef predict(sample, metadata)\n  pass\n"},
     [E(3, 30, "", "syntax error: expected ':'", file="inference.py")]),
    ("inference-nested-too-deeply", BASE, {"inference.py": "x = " + "-" * 200_000 + "1\n"},
     [E(1, 1, "", "cannot be parsed: nested too deeply", file="inference.py")]),
    ("inference-in-subfolder", python("src/model.py"), {"src/model.py": "y = 2\n"},
     [E(1, 1, "", "must define predict", file="src/model.py")]),
    ("shared-broken-file", BASE + named("other"), {"inference.py": "x = 1\n"},
     [E(1, 1, "", "must define predict", file="inference.py"),
      E(1, 1, "", "must define predict", file="inference.py", api="other")]),
    # -- valid files that must stay valid ---------------------------------------------------
    ("async-predict", BASE, {"inference.py": "async def predict(sample, metadata):\n  pass\n"},
     []),
    ("predict-imported", BASE, {"inference.py": "from helper import predict\n"}, []),
    ("predict-star-imported", BASE, {"inference.py": "from helper import *\n"}, []),
    ("tracker-null", api("  tracker:\n"), {}, []),
    ("compute-null", api("  compute:\n"), {}, []),
    # -- autoscaling (issue 14) ---------------------------------------------------------------
    ("in-flight-scale-to-zero", inflight("min_replicas: 0", "target_in_flight: 2.5",
                                         "window: 1m", "scale_to_zero_after: 90s"), {}, []),
    ("autoscale-on-unknown", compute("autoscale_on: gpu"), {},
     [E(6, 19, "compute.autoscale_on", 'must be "cpu" or "in_flight" (got "gpu")')]),
    ("target-in-flight-zero", inflight("target_in_flight: 0"), {},
     [E(7, 23, "compute.target_in_flight", f"{GT0} (got 0)")]),
    ("target-in-flight-string", inflight('target_in_flight: "2"'), {},
     [E(7, 23, "compute.target_in_flight", 'must be a number (got "2")')]),
    ("window-not-a-duration", inflight("window: 60"), {},
     [E(7, 13, "compute.window", 'must be a duration such as "500ms", "10s", "5m" or "1h"')]),
    ("window-zero", inflight("window: 0s"), {},
     [E(7, 13, "compute.window", 'must be longer than 0s (got "0s")')]),
    ("window-below-sync-period", inflight("window: 5s"), {},
     [E(7, 13, "compute.window", "at least the autoscaler's sync period (15s) (got \"5s\")")]),
    ("stabilization-negative", inflight("downscale_stabilization: -5m"), {},
     [E(7, 30, "compute.downscale_stabilization", "must be a duration")]),
    ("upscale-factor-below-one", inflight("max_upscale_factor: 0.5"), {},
     [E(7, 25, "compute.max_upscale_factor", "must be 1 or more")]),
    ("downscale-factor-above-one", inflight("max_downscale_factor: 1.5"), {},
     [E(7, 27, "compute.max_downscale_factor", "greater than 0 and at most 1 (a shrink")]),
    ("tolerance-one", inflight("upscale_tolerance: 1"), {},
     [E(7, 24, "compute.upscale_tolerance", "less than 1 (a fraction) (got 1)")]),
    ("in-flight-key-with-cpu", compute("window: 2m"), {},
     [E(6, 5, "compute.window", "is only used with autoscale_on: in_flight")]),

    ("name-63", named("a" * 63), {}, []),
]


def _key(problem: object) -> tuple[object, ...]:
    return tuple(getattr(problem, f) for f in ("file", "line", "column", "api", "path"))


@pytest.mark.parametrize(("text", "files", "expected"),
                         [pytest.param(t, f, e, id=i) for i, t, f, e in CASES])
def test_case(make_project: Callable[..., Path], text: str, files: dict[str, str],
              expected: list[Expect]) -> None:
    project, problems = validate_project(make_project(text, files))
    got = [(_key(p), p.message) for p in problems]
    want = [((e.file, e.line, e.column, e.api, e.path), e.message) for e in expected]
    assert [g[0] for g in got] == [w[0] for w in want], got
    for (_, message), (_, fragment) in zip(got, want, strict=True):
        assert fragment in message
    assert (project is None) == bool(expected)


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)
