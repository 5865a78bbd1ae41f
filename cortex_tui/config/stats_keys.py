"""Key names of a replica's `/stats` document, defined once: the predictor writes it
(`predictor/state.py`), every target reads it (`cortex_tui.replica_stats`).

They live in the config package because the predictor may import only `cortex_tui.config`
(it ships into replicas and must stay small); the config package is the one contract the
replica already shares with the tool.
"""

from __future__ import annotations

API = "api"
REPLICA = "replica"
STARTED = "started"  # unix time the replica's counters started from (changes on a restart)
READY = "ready"
IN_FLIGHT = "in_flight"
QUEUED = "queued"
IN_FLIGHT_SAMPLED = "in_flight_sampled"  # {"sum", "count"} of in_flight sampled on the loop
INIT_DONE_AT = "init_done_at"  # unix time init finished (cold start)
FIRST_ANSWER_AT = "first_answer_at"  # unix time of the first answer (within a sample period)
PREDICT_MODE = "predict_mode"
NETWORK = "network_stats"
CLASSES = "class_distribution"
REGRESSION = "regression_stats"
BATCHING = "batching"  # null without server_side_batching
SIGNATURE = "signature"  # model runtimes: {input: {"shape": [...], "type": "float32"}}

# inside NETWORK
LATENCY_MS = "latency_ms"
CODE_2XX = "code_2xx"
CODE_4XX = "code_4xx"
CODE_5XX = "code_5xx"
TOTAL = "total"

# inside REGRESSION
MIN = "min"
MAX = "max"
AVG = "avg"
SAMPLE_COUNT = "sample_count"
HISTOGRAM = "histogram"  # [[upper bound (None = +inf), count], ...]

# inside BATCHING
BATCHES = "batches"
BATCH_SAMPLES = "samples"
AVG_BATCH_SIZE = "avg_batch_size"
AVG_BATCH_WAIT_MS = "avg_wait_ms"  # time a sample waited for its batch to go
BATCH_SIZE_HISTOGRAM = "batch_size_histogram"  # [[upper bound (None = +inf), count], ...]

# inside IN_FLIGHT_SAMPLED
SUM = "sum"
COUNT = "count"
