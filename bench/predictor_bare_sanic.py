"""The baseline of bench/predictor.sh: a bare Sanic handler doing the same work as a replica.

Parse the JSON body, call the inference file's predict(sample, metadata), dump the JSON answer.
No tracker, no metrics, no queue, no thread pool.
usage: python bench/predictor_bare_sanic.py INFERENCE_FILE PORT [METADATA_JSON]
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from sanic import Sanic
from sanic.response import HTTPResponse


def main() -> None:
    path, port = Path(sys.argv[1]).resolve(), int(sys.argv[2])
    metadata = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("bare_inference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "init"):
        module.init(metadata)
    predict = module.predict

    app = Sanic("bare")

    @app.post("/predict")
    async def handler(request):  # type: ignore[no-untyped-def]
        result = predict(json.loads(request.body), metadata)
        return HTTPResponse(json.dumps(result).encode(), content_type="application/json")

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
