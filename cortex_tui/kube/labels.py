"""Label and annotation names, the container port and image: defined once for the kube target."""

from __future__ import annotations

from cortex_tui import __version__

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
PART_OF = "app.kubernetes.io/part-of"
COMPONENT = "app.kubernetes.io/component"
MANAGED_BY = "app.kubernetes.io/managed-by"
VERSION = "app.kubernetes.io/version"
MANAGER = "cortex-tui"

CONFIG_HASH = "cortex-tui/config-hash"  # hash of the desired object (and of the pod template)
API_SPEC = "cortex-tui/api-spec"  # the API's validated config, JSON (on the Deployment)
PROJECT_HASH = "cortex-tui/project-hash"  # sha256 of the shipped project bundle
UPDATED_AT = "cortex-tui/updated-at"  # unix time of the last write (not part of the hash)

PORT = 8888
PORT_NAME = "http"
CONTAINER = "predictor"
DEFAULT_IMAGE = f"cortex-tui-predictor:{__version__}"  # predictor/Dockerfile, tagged
AWS_CLI_IMAGE = "amazon/aws-cli:2.17.0"
GPU_RESOURCE = "nvidia.com/gpu"
# The variant of a predictor image with an API's model runtime installed (predictor/Dockerfile,
# --build-arg RUNTIME=onnx|tensorflow): same tag plus this, before any GPU suffix.
RUNTIME_TAG_SUFFIX = {"python": "", "onnx": "-onnx", "tensorflow": "-tensorflow"}
GPU_TAG_SUFFIX = "-gpu"  # the GPU variant of a predictor image: same tag plus this


def api_labels(api: str, deployment: str) -> dict[str, str]:
    return {
        NAME: api,
        INSTANCE: api,
        PART_OF: deployment,
        COMPONENT: "predictor",
        MANAGED_BY: MANAGER,
        VERSION: __version__,
    }


def api_selector(api: str) -> dict[str, str]:
    """The immutable Deployment / Service selector of one API."""
    return {NAME: api, INSTANCE: api}


def selector_text(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())


MANAGED_SELECTOR = f"{MANAGED_BY}={MANAGER}"
