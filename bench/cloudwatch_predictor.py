"""A replica with CloudWatch monitoring on vs off, under wrk load, in the same run.

Server pinned to core 0, wrk to core 1 (bench/predictor_bench.py's helpers); CloudWatch is moto
in server mode inside this process (on 127.0.0.1). Runs alternate off / on; the table shows
each run and the on/off ratios of the medians, then checks that CloudWatch counted every
request the CloudWatch-on replicas answered.

    .venv/bin/python bench/cloudwatch_predictor.py [--seconds 5] [--rounds 2] [--conns 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

from moto.server import ThreadedMotoServer

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import predictor_bench as pb  # noqa: E402

from cortex_tui.aws.cloudwatch_reader import CloudWatchReader  # noqa: E402
from cortex_tui.settings import AwsSettings  # noqa: E402

API = "iris-classifier"
NAMESPACE = "cortex-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_REGION": "us-east-1"}


def run(label: str, env: dict[str, str], port: int, args: argparse.Namespace,
        body: Path) -> tuple[pb.Result, int]:
    proc = pb.start([sys.executable, "-m", "predictor", "--project", str(pb.IRIS), "--api", API,
                     "--port", str(port)], env)
    try:
        pb.wait_http(port, "/predict", "POST", body.read_bytes())
        pb.wrk(port, args.conns, 1, body, label)  # warm-up
        result = pb.wrk(port, args.conns, args.seconds, body, label, proc.pid)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as answer:
            served = int(json.loads(answer.read())["network_stats"]["total"])
        return result, served
    finally:
        pb.stop(proc)  # SIGTERM: the publisher sends what is left


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--flush-seconds", type=float, default=5.0,
                        help="the replicas' CORTEX_CLOUDWATCH_FLUSH_SECONDS")
    args = parser.parse_args()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, moto_port = moto.get_host_and_port()
    url = f"http://{host}:{moto_port}"
    os.environ.update(CREDENTIALS)
    cloudwatch = {**CREDENTIALS, "CORTEX_CLOUDWATCH_NAMESPACE": NAMESPACE,
                  "CORTEX_CLOUDWATCH_ENDPOINT": url,
                  "CORTEX_CLOUDWATCH_FLUSH_SECONDS": str(args.flush_seconds)}
    results: dict[str, list[pb.Result]] = {"off": [], "on": []}
    answered = 0  # requests the CloudWatch-on replicas answered (their own /stats)
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "sample.json"
        body.write_bytes((pb.IRIS / "sample.json").read_bytes())
        for _ in range(args.rounds):
            for label, env in (("off", {}), ("on", cloudwatch)):
                result, served = run(label, env, pb.free_port(), args, body)
                results[label].append(result)
                if label == "on":
                    answered += served
                print(f"{label:>3}  {result.rps:9.0f} req/s  p99 {result.p99_ms:6.2f} ms  "
                      f"cpu {result.cpu_us:6.1f} us/req  errors {result.errors}")
    off, on = (statistics.median(r.rps for r in results[k]) for k in ("off", "on"))
    cpu_off, cpu_on = (statistics.median(r.cpu_us for r in results[k]) for k in ("off", "on"))
    print(f"CloudWatch on / off: throughput {on / off:.3f}x, server CPU per request "
          f"{cpu_on / cpu_off:.3f}x")
    reader = CloudWatchReader(AwsSettings(region="us-east-1", endpoint_url=url,
                                          cloudwatch_namespace=NAMESPACE))
    network, _ = reader.totals(API)
    print(f"CloudWatch counted {network.total} requests (2XX {network.code_2xx}, 4XX/5XX "
          f"{network.code_4xx + network.code_5xx}); the 'on' replicas answered {answered} "
          "(the 503s of the readiness poll included)")
    moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
