"""Where a replica finds its model: in the project, or downloaded once from S3.

An `s3://` model is downloaded into a cache keyed by the object's ETag, so replicas of the same
model version share one copy and a new upload is fetched again. A zipped SavedModel is
unpacked into the cache the same way (keyed by its content hash).

    CORTEX_MODEL_CACHE   the cache folder [~/.cache/cortex-tui/models]
    AWS_*                the usual boto3 settings (AWS_ENDPOINT_URL for S3-compatible stores)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from cortex_tui.config.model_check import saved_model_dir, zip_saved_model
from predictor.loader import InitFailure
from predictor.logs import describe, log

CACHE_ENV = "CORTEX_MODEL_CACHE"


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured) if configured else Path.home() / ".cache" / "cortex-tui" / "models"


def local_model(root: Path, model: str, runtime: str) -> Path:
    """The model's path on this machine, downloading or unpacking it first when needed."""
    path = fetch_s3(model) if model.startswith("s3://") else root / model
    if runtime == "tensorflow" and path.is_file() and zipfile.is_zipfile(path):
        path = unzip(path)
    if runtime == "tensorflow" and path.is_dir():
        path = saved_model_dir(path)
    return path


def fetch_s3(url: str) -> Path:
    """Download s3://bucket/key once per ETag; the cached copy's path."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = url.removeprefix("s3://").partition("/")
    name = Path(key).name or "model"
    try:
        s3 = boto3.client("s3")
        etag = s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        target = cache_dir() / _digest(url) / _safe(etag) / name
        if target.exists():
            log.info("model %s: cached copy of ETag %s", url, etag)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as part:
            s3.download_fileobj(bucket, key, part)
        os.replace(part.name, target)  # whole or not at all: a crash leaves no half model
    except (BotoCoreError, ClientError) as exc:
        raise InitFailure(f"{url}: the model cannot be downloaded: {describe(exc)}") from exc
    except OSError as exc:
        raise InitFailure(f"{url}: the model cannot be stored in {cache_dir()}: {exc}") from exc
    log.info("model %s: downloaded (ETag %s, %d bytes)", url, etag, target.stat().st_size)
    return target


def unzip(path: Path) -> Path:
    """Unpack a zipped SavedModel into the cache (once per content); its folder."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()[:32]
    target = cache_dir() / "unzipped" / digest
    try:
        with zipfile.ZipFile(path) as archive:
            member = zip_saved_model(archive.namelist())
            folder = target / member.rpartition("/")[0]
            if not target.exists():
                staging = Path(tempfile.mkdtemp(dir=_made(target.parent)))
                archive.extractall(staging)  # zipfile keeps members inside staging
                try:
                    staging.rename(target)
                except OSError:  # another replica unpacked it meanwhile
                    shutil.rmtree(staging, ignore_errors=True)
    except Exception as exc:
        raise InitFailure(f"{path.name}: the zipped SavedModel cannot be unpacked: "
                          f"{describe(exc)}") from exc
    return folder


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _safe(etag: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in etag) or "none"
