"""Running out of a kernel-enforced memory limit behaves as on the cluster.

On the local target the operator caps each replica's data segment (`RLIMIT_DATA`) at the API's
`compute.mem`; an allocation past it fails, which Python raises as MemoryError. On Kubernetes
the same allocation gets the container OOM-killed. So, under such a limit, a MemoryError from
predict ends the replica with Kubernetes' OOMKilled exit code instead of answering 500 and
living on with a heap in an unknown state.
"""

from __future__ import annotations

import os
import resource
import sys

from predictor.logs import describe, log

OOM_EXIT_CODE = 137  # 128 + SIGKILL: what Kubernetes reports for an OOM-killed container


def data_limit() -> int | None:
    """The process's soft RLIMIT_DATA in bytes; None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    return None if soft == resource.RLIM_INFINITY else soft


def exit_if_out_of_memory(exc: BaseException) -> None:
    """Exit at once (OOM_EXIT_CODE) when `exc` is a MemoryError under a memory limit."""
    if not isinstance(exc, MemoryError):
        return
    limit = data_limit()
    if limit is None:
        return
    log.error("out of memory: an allocation failed under the data limit of %dMi (RLIMIT_DATA, "
              "set from compute.mem) (%s); the replica exits as the cluster's OOM killer would "
              "stop it", limit >> 20, describe(exc))
    sys.stdout.flush()
    os._exit(OOM_EXIT_CODE)
