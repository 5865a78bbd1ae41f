"""boto3 clients built from an environment's `aws` settings, and plain error messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from cortex_tui.backends.base import BackendError
from cortex_tui.settings import AwsSettings

# Fail fast enough for an interactive tool; boto3's defaults wait a minute on a dead endpoint.
_CONFIG = Config(
    connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
)


class AwsError(BackendError):
    """An AWS call failed; the message says which call and why, in AWS's own words."""


def aws_client(service: str, aws: AwsSettings) -> Any:
    """A boto3 client for `service` in the environment's region (or boto3's default region)."""
    with aws_errors(f"{service} client"):
        session = boto3.session.Session(region_name=aws.region or None)
        return session.client(service, endpoint_url=aws.endpoint_url or None, config=_CONFIG)


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore exceptions into an AwsError naming `action` (no traceback for users)."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "error"
        message = error.get("Message") or str(exc)
        raise AwsError(f"AWS {action}: {code}: {message}") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsError(
            f"AWS {action}: no AWS credentials found (set them up as for the aws CLI: "
            "AWS_PROFILE, ~/.aws/credentials, environment variables or an instance role)"
        ) from None
    except NoRegionError:
        raise AwsError(
            f"AWS {action}: no AWS region: set `aws.region` for the environment in "
            "settings.yaml, or AWS_REGION"
        ) from None
    except EndpointConnectionError as exc:
        raise AwsError(f"AWS {action}: cannot reach {exc.kwargs.get('endpoint_url')}") from None
    except BotoCoreError as exc:
        raise AwsError(f"AWS {action}: {exc}") from None
