"""`FakeKube`: the fake API server a test starts, points a kubeconfig at, and steers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.helpers.fakekube.api import Api
from tests.helpers.fakekube.controllers import Controllers
from tests.helpers.fakekube.events import Recorder
from tests.helpers.fakekube.kubelet import Behaviour
from tests.helpers.fakekube.podlogs import LogBook
from tests.helpers.fakekube.resources import by_kind
from tests.helpers.fakekube.server import serve
from tests.helpers.fakekube.store import Store
from tests.helpers.waiting import wait_until

T = TypeVar("T")
NODE = by_kind("Node")
NAMESPACE = by_kind("Namespace")
QUOTA = by_kind("ResourceQuota")
# A production namespace: Pod Security "restricted" enforced, a quota on cpu and memory.
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/enforce-version": "latest"}
COMPUTE_QUOTA = {"requests.cpu": "64", "requests.memory": "256Gi", "limits.memory": "256Gi"}
POD = by_kind("Pod")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class FakeKube:
    """A Kubernetes API server on 127.0.0.1 with controllers, a scheduler and a kubelet.

    Steering: `add_node`, `harden_namespace` (Pod Security restricted + a quota), `behave`
    (crash / oom / unready pods), `set_cpu` (HPA input),
    `forbidden` / `failing` (403 / 500 for a resource or a verb and a resource),
    `unauthorized` (401 for everything),
    `route` (proxy pods to a real local process), `write_log`, `store.force_conflicts`,
    `store.compact`. Observing: `requests` / `writes` (what clients asked), `wait_for`.
    """

    def __init__(self, tick: float = 0.02, termination_ticks: int = 3, crash_ticks: int = 3):
        self.tick = tick
        self.termination_ticks = termination_ticks
        self.crash_ticks = crash_ticks
        self.store = Store()
        self.logs = LogBook()
        self.events = Recorder(self.store)
        self.api = Api(self)
        self.cpu_utilization: dict[tuple[str, str], int] = {}
        self.pods_metrics: dict[tuple[str, str, str], float] = {}  # (ns, hpa, metric) -> total
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) from clients
        # 403 for these: a resource plural ("nodes"), or a verb and a plural ("create pods")
        self.forbidden: set[str] = set()
        # 500 InternalError for these (same keys as `forbidden`), as an overloaded etcd answers
        self.failing: set[str] = set()
        self.unauthorized = False  # True: 401 for every request, as for an expired token
        self.stopping = threading.Event()
        self._behaviours: list[tuple[dict[str, str], Behaviour]] = []
        self._routes: list[tuple[dict[str, str], int]] = []
        self._round_robin = itertools.count()
        self._lock = threading.Lock()
        self._server = serve(self)
        self._threads: list[threading.Thread] = []
        for name in ("default", "kube-system"):
            self.store.create(NAMESPACE, "", {"metadata": {"name": name}})

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeKube:
        if not self.store.list(NODE)[0]:
            self.add_node("node-1")
        controllers = Controllers(self)
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="fakekube-http", daemon=True),
            threading.Thread(target=controllers.loop, args=(self.stopping,),
                             name="fakekube-controllers", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self.store.cond:
            self.store.cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path, context: str = "fake",
                         namespace: str | None = None) -> Path:
        entry: dict[str, Any] = {"cluster": "fake", "user": "fake"}
        if namespace:
            entry["namespace"] = namespace
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": context, "context": entry}],
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    # ------------------------------------------------------------------ steering
    def add_node(self, name: str, cpu: str = "4", memory: str = "16Gi", gpu: int = 0,
                 pods: int = 110) -> None:
        allocatable = {"cpu": cpu, "memory": memory, "pods": str(pods)}
        if gpu:
            allocatable["nvidia.com/gpu"] = str(gpu)
        self.store.create(NODE, "", {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {
                "capacity": allocatable, "allocatable": allocatable,
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
            },
        })

    def harden_namespace(self, name: str, quota: dict[str, str] | None = None) -> None:
        """Create namespace `name` as a hardened cluster's admin would: Pod Security
        `restricted` enforced and a ResourceQuota `compute` (so every container, init ones
        included, must request cpu and memory, and limit memory)."""
        self.store.create(NAMESPACE, "", {"metadata": {"name": name, "labels": RESTRICTED}})
        self.store.create(QUOTA, name, {"metadata": {"name": "compute"},
                                        "spec": {"hard": quota or COMPUTE_QUOTA}})

    def behave(self, labels: dict[str, str], mode: str, message: str = "") -> None:
        """Pods whose labels include `labels` now do `mode` (see kubelet.Behaviour)."""
        with self._lock:
            self._behaviours.append((dict(labels), Behaviour(mode, message)))

    def behaviour_for(self, pod: dict[str, Any]) -> Behaviour:
        labels = pod["metadata"].get("labels") or {}
        with self._lock:
            for wanted, behaviour in reversed(self._behaviours):
                if all(labels.get(k) == v for k, v in wanted.items()):
                    return behaviour
        return Behaviour()

    def set_cpu(self, hpa: str, utilization: int | None, namespace: str = "cortex") -> None:
        """The average CPU utilisation (percent of the request) the HPA of `hpa` observes now.
        When the HPA scales, the same load spreads over the new count (the figure drops), so it
        converges as on a cluster."""
        if utilization is None:
            self.cpu_utilization.pop((namespace, hpa), None)
        else:
            self.cpu_utilization[(namespace, hpa)] = utilization

    def set_pods_metric(self, hpa: str, metric: str, total: float | None,
                        namespace: str = "cortex") -> None:
        """The API-wide total of a `Pods` metric (e.g. requests in flight) the HPA of `hpa`
        observes: the average per pod is this over the current replica count."""
        if total is None:
            self.pods_metrics.pop((namespace, hpa, metric), None)
        else:
            self.pods_metrics[(namespace, hpa, metric)] = total

    def route(self, labels: dict[str, str], port: int) -> None:
        """Proxy requests to pods whose labels include `labels` go to 127.0.0.1:`port`."""
        with self._lock:
            self._routes.append((dict(labels), port))

    def port_for(self, pod: dict[str, Any]) -> int | None:
        labels = pod["metadata"].get("labels") or {}
        with self._lock:
            for wanted, port in reversed(self._routes):
                if all(labels.get(k) == v for k, v in wanted.items()):
                    return port
        return None

    def pick(self, pods: list[dict[str, Any]]) -> dict[str, Any]:
        return pods[next(self._round_robin) % len(pods)]

    def write_log(self, namespace: str, pod: str, text: str, container: str = "predictor"
                  ) -> None:
        self.logs.write(namespace, pod, container, text)

    # ------------------------------------------------------------------ observing
    def record_request(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    @property
    def writes(self) -> list[tuple[str, str, int]]:
        """Client requests that change something (proxy calls and dry runs excluded)."""
        with self._lock:
            return [r for r in self.requests if r[0] in WRITE_METHODS
                    and "/proxy" not in r[1] and "dryRun=" not in r[1]]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def pods(self, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
        return self.store.list(POD, namespace, selector)[0]

    def wait_for(self, condition: Callable[[], T], timeout: float = 20.0,
                 message: str = "condition") -> T:
        return wait_until(condition, timeout, message)
