"""The environment variables that turn a replica's CloudWatch publisher on.

Added to the predictor container by the Kubernetes renderer; empty when the environment has no
`aws.cloudwatch_namespace`, so manifests of environments without CloudWatch do not change.
Credentials are never passed: pods get them from their service account or node role.
"""

from __future__ import annotations

from cortex_tui.settings import AwsSettings
from predictor.cloudwatch import ENV_ENDPOINT, ENV_NAMESPACE, ENV_REGION


def pod_env(aws: AwsSettings | None) -> list[dict[str, str]]:
    if aws is None or not aws.cloudwatch_namespace:
        return []
    env = [{"name": ENV_NAMESPACE, "value": aws.cloudwatch_namespace}]
    if aws.region:
        env.append({"name": ENV_REGION, "value": aws.region})
    if aws.endpoint_url:
        env.append({"name": ENV_ENDPOINT, "value": aws.endpoint_url})
    return env
