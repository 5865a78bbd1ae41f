"""An HTTP fake of the Kubernetes API server for tests (the unmodified client talks to it).

    with FakeKube() as fake:
        fake.write_kubeconfig(tmp_path / "kubeconfig", context="fake")

Modules: `store` (objects, resourceVersion, history), `patch` (strategic / merge / JSON patch),
`api` (routes, verbs, watch, logs, proxy), `controllers` (Deployment -> ReplicaSet -> Pods, HPA,
GC), `kubelet` (scheduler and pod lifecycle), `server` (HTTP), `fake` (the steering wheel).
"""

from tests.helpers.fakekube.fake import FakeKube
from tests.helpers.fakekube.kubelet import Behaviour

__all__ = ["Behaviour", "FakeKube"]
