"""Shipping a project to the replicas: a deterministic zip, in a ConfigMap or through S3."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cortex_tui.config.files import project_files
from cortex_tui.config.model import Project
from cortex_tui.errors import BackendError
from cortex_tui.settings import AwsSettings

# The API server refuses a ConfigMap whose values (`data` text plus decoded `binaryData` bytes;
# base64 does not count) total more than 1 MiB.
CONFIGMAP_LIMIT = 1024 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries get a fixed time: same files, same bytes


@dataclass(frozen=True)
class ProjectBundle:
    data: bytes
    sha256: str
    files: int

    @property
    def short_hash(self) -> str:
        return self.sha256[:16]


def bundle_project(root: Path, exclude: tuple[str, ...] = ()) -> ProjectBundle:
    """Zip the files a deploy ships (`config.files`: .cortexignore, links, minus `exclude`d
    relative paths) byte-for-byte reproducibly."""
    buffer = io.BytesIO()
    files = project_files(root, frozenset(exclude))
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.relative, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(file.source, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, file.source.read_bytes())
    data = buffer.getvalue()
    return ProjectBundle(data=data, sha256=hashlib.sha256(data).hexdigest(), files=len(files))


def configmap_data_size(configmap: dict[str, Any]) -> int:
    """The size the API server checks against CONFIGMAP_LIMIT (values only, decoded)."""
    text = sum(len(str(value).encode()) for value in (configmap.get("data") or {}).values())
    binary = sum(len(base64.b64decode(value)) for value in
                 (configmap.get("binaryData") or {}).values())
    return text + binary


def check_configmap_size(bundle: ProjectBundle, configmap: dict[str, Any]) -> None:
    """Refuse a ConfigMap the API server would reject, before anything is written."""
    size = configmap_data_size(configmap)
    if size <= CONFIGMAP_LIMIT:
        return
    raise BackendError(
        f"the project is too large to ship in a ConfigMap: {bundle.files} files, "
        f"{len(bundle.data) / 1024:.0f} KiB zipped ({size / 1024:.0f} KiB with its config; "
        f"a ConfigMap holds at most {CONFIGMAP_LIMIT // 1024} KiB). Set "
        "`project_store: s3://bucket/prefix` for this environment in settings.yaml to ship it "
        "through S3, build a project image (`cortex-tui render --dockerfile`, then `image:` in "
        "cortex.yaml), or remove large files from the project folder"
    )


def bundle_for(project: Project) -> ProjectBundle:
    """The project's files without its cortex.yaml: each API ships its own config, so editing
    one API's entry changes nothing for the others."""
    config = project.config_file
    exclude = (config.relative_to(project.root).as_posix(),) if config.is_relative_to(
        project.root) else ()
    return bundle_project(project.root, exclude)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
            raise BackendError(f"project_store: must look like s3://bucket/prefix (got {uri!r})")
        bucket, _, prefix = uri[5:].partition("/")
        return cls(bucket=bucket, prefix=prefix.strip("/"))

    def key_for(self, deployment: str, bundle: ProjectBundle) -> str:
        name = f"{deployment}/{bundle.short_hash}.zip"
        return f"{self.prefix}/{name}" if self.prefix else name

    def uri_for(self, deployment: str, bundle: ProjectBundle) -> str:
        return f"s3://{self.bucket}/{self.key_for(deployment, bundle)}"


def s3_client(aws: AwsSettings | None) -> Any:
    import boto3

    kwargs: dict[str, Any] = {}
    if aws is not None and aws.region:
        kwargs["region_name"] = aws.region
    if aws is not None and aws.endpoint_url:
        kwargs["endpoint_url"] = aws.endpoint_url
    return boto3.client("s3", **kwargs)


def upload_bundle(
    bundle: ProjectBundle, location: S3Location, deployment: str, aws: AwsSettings | None
) -> tuple[str, bool]:
    """Upload the bundle unless the same bytes are already there: (its s3:// URI, uploaded?)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = location.key_for(deployment, bundle)
    uri = location.uri_for(deployment, bundle)
    client = s3_client(aws)
    try:
        try:
            client.head_object(Bucket=location.bucket, Key=key)
            return uri, False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        client.put_object(
            Bucket=location.bucket, Key=key, Body=bundle.data,
            ContentType="application/zip", Metadata={"sha256": bundle.sha256},
        )
    except (BotoCoreError, ClientError) as exc:
        raise BackendError(f"cannot upload the project to {uri}: {exc}") from None
    return uri, True
