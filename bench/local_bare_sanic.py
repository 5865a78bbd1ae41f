"""Baseline of bench/local.sh: bare Sanic with N workers running an inference file's predict.

usage: python bench/local_bare_sanic.py INFERENCE_FILE PORT WORKERS [METADATA_JSON]
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from sanic import Sanic
from sanic.response import HTTPResponse

PATH = Path(sys.argv[1]).resolve()
METADATA = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
sys.path.insert(0, str(PATH.parent))
_spec = importlib.util.spec_from_file_location("bare_inference", PATH)
assert _spec and _spec.loader
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
if hasattr(_module, "init"):
    _module.init(METADATA)

app = Sanic("bare")


@app.post("/predict")
async def handler(request):  # type: ignore[no-untyped-def]
    result = _module.predict(json.loads(request.body), METADATA)
    return HTTPResponse(json.dumps(result).encode(), content_type="application/json")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]), workers=int(sys.argv[3]),
            access_log=False, motd=False)
