"""The baseline of the benchmarks: a bare Sanic handler doing the same work as a replica.

Parse the JSON body, call the inference file's predict(sample, metadata) (awaited when it is
`async def`), dump the JSON answer, all with Sanic's default JSON codec (`request.json`,
`sanic.response.json`). No tracker, no metrics, no queue, no thread pool.
usage: python bench/bare_sanic.py INFERENCE_FILE PORT [METADATA_JSON] [--workers N]
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
from pathlib import Path

from sanic import Sanic
from sanic.response import json as json_response


def load_predict(path: Path, metadata: dict) -> object:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("bare_inference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "init"):
        module.init(metadata)
    return module.predict


# At module level, not in a function: Sanic's worker processes re-import this module (with the
# same argv) and look the app up by name.
ARGS = argparse.ArgumentParser()
ARGS.add_argument("inference", type=Path)
ARGS.add_argument("port", type=int)
ARGS.add_argument("metadata", nargs="?", default="{}")
ARGS.add_argument("--workers", type=int, default=1)
args = ARGS.parse_args()
METADATA = json.loads(args.metadata)
PREDICT = load_predict(args.inference.resolve(), METADATA)
IS_ASYNC = inspect.iscoroutinefunction(PREDICT)

app = Sanic("bare")


@app.post("/predict")
async def handler(request):  # type: ignore[no-untyped-def]
    result = PREDICT(request.json, METADATA)  # type: ignore[operator]
    if IS_ASYNC:
        result = await result
    return json_response(result)


if __name__ == "__main__":
    if args.workers == 1:
        app.run(host="127.0.0.1", port=args.port, single_process=True, access_log=False,
                motd=False)
    else:  # Sanic's workers share one listening socket
        app.run(host="127.0.0.1", port=args.port, workers=args.workers, access_log=False,
                motd=False)
