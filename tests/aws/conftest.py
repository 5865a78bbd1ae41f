"""AWS tests run against moto in server mode on 127.0.0.1: real HTTP, the production boto3
code unchanged, only `endpoint_url` differs. One server per test process, reset per test."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import boto3
import pytest

from cortex_tui.settings import AwsSettings

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
# An AMI moto knows, so instances launch without warnings.
AMI = "ami-12c6146b"


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fake credentials in the environment, a fresh moto state, a tmp CORTEX_TUI_HOME."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("CORTEX_TUI_HOME", str(tmp_path / "home"))
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=10).read()
    return moto_url


def aws_settings(url: str, **kwargs: object) -> AwsSettings:
    return AwsSettings(region=REGION, endpoint_url=url, **kwargs)  # type: ignore[arg-type]


def make_group(
    url: str,
    name: str,
    *,
    size: tuple[int, int, int] = (1, 2, 5),
    instance_type: str = "m5.large",
    tags: dict[str, str] | None = None,
) -> None:
    """An Auto Scaling group with (min, desired, max) and running instances in moto."""
    client = boto3.client("autoscaling", region_name=REGION, endpoint_url=url)
    client.create_launch_configuration(
        LaunchConfigurationName=f"{name}-lc", ImageId=AMI, InstanceType=instance_type
    )
    low, desired, high = size
    client.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=f"{name}-lc",
        MinSize=low,
        DesiredCapacity=desired,
        MaxSize=high,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[
            {"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in (tags or {}).items()
        ],
    )


def write_settings(home: Path, env: str, aws: dict[str, object]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    body = {"environments": {env: {"context": env, "aws": aws}}}
    (home / "settings.yaml").write_text(json.dumps(body), encoding="utf-8")
