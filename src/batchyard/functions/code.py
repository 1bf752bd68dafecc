"""Deployment packages: check an uploaded zip, and unpack stored code for the workers.

Each replica keeps unpacked code under ``<data dir>/functions/code/<sha256 hex>/``, extracted
once from the archive in the store (to a temporary directory, then renamed into place, so a
half-extracted directory is never used). Directories are named by content, so an update never
touches the directory a running worker imports from.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from batchyard.functions.errors import InvalidParameterValueException, bad_zip

MAX_UNZIPPED_BYTES = 262_144_000  # Lambda's limit on a function's unzipped size (250 MB)


def digest(archive: bytes) -> tuple[str, str]:
    """``(hex, base64)`` SHA-256 of an archive: the store's key and Lambda's ``CodeSha256``."""
    raw = hashlib.sha256(archive).digest()
    return raw.hex(), base64.b64encode(raw).decode()


def check_zip(archive: bytes) -> None:
    """Refuse what Lambda refuses to unzip; and paths that would escape the code directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            total = 0
            for info in zipped.infolist():
                path = PurePosixPath(info.filename)
                if path.is_absolute() or ".." in path.parts:
                    raise bad_zip()
                total += info.file_size
            if total > MAX_UNZIPPED_BYTES:
                raise bad_zip()
            if zipped.testzip() is not None:
                raise bad_zip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise bad_zip() from exc


def zip_of(code: dict[str, Any]) -> bytes:
    """The checked archive of a request's ``Code`` (or UpdateFunctionCode's members)."""
    archive = code.get("ZipFile")
    if archive is None:
        if code.get("S3Bucket") or code.get("ImageUri"):
            raise InvalidParameterValueException(
                "batchyard takes function code as ZipFile only (S3Bucket/S3Key and ImageUri "
                "are not supported)."
            )
        raise InvalidParameterValueException("Please provide a source for function code.")
    data = bytes(archive)
    check_zip(data)
    return data


class CodeCache:
    """Unpacked code by hash, fetched from the store the first time a worker needs it."""

    def __init__(self, root: Path, fetch: Callable[[str], bytes | None]) -> None:
        self.root = root
        self._fetch = fetch
        self._lock = threading.Lock()

    def directory(self, sha_hex: str) -> Path:
        target = self.root / sha_hex
        if target.is_dir():
            return target
        with self._lock:
            if target.is_dir():
                return target
            archive = self._fetch(sha_hex)
            if archive is None:
                raise FileNotFoundError(f"no code {sha_hex} in the store")
            self.root.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=self.root))
            try:
                with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
                    zipped.extractall(scratch)
                scratch.rename(target)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        return target

    def archive_path(self, sha_hex: str) -> Path:
        """The zip itself on disk (GetFunction's ``Code.Location``), written on first ask."""
        path = self.root / f"{sha_hex}.zip"
        if not path.exists():
            archive = self._fetch(sha_hex)
            if archive is not None:
                self.root.mkdir(parents=True, exist_ok=True)
                scratch = path.with_suffix(".tmp")
                scratch.write_bytes(archive)
                scratch.replace(path)
        return path
