"""S3 for the distributed Map, served from a local directory.

A Distributed Map reads its items with ``s3:getObject`` / ``s3:listObjectsV2`` and writes its
results with ``s3:putObject``. batchyard keeps no object store of its own: an S3 *root directory*
stands in for S3, one sub-directory per bucket, one file per key (``<root>/<bucket>/<key>``).
The root comes from the caller, or else from the ``BATCHYARD_S3_ROOT`` environment variable.

Failures are raised as :class:`S3Error` carrying S3's own error code and message; the item
reader and the result writer wrap them into ``States.ItemReaderFailed`` /
``States.ResultWriterFailed``. Keys are confined to their bucket directory: a key that would
climb out of it (``..``) is refused as S3 refuses a request it cannot authorise.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Environment variable naming the local directory that stands in for S3 (one sub-directory
#: per bucket). Used when a caller passes no explicit root.
S3_ROOT_ENV = "BATCHYARD_S3_ROOT"

_S3_SCHEME = "s3://"
_FILE_SCHEME = "file://"


class S3Error(Exception):
    """An S3 request failed; ``code`` and ``message`` are S3's (``NoSuchKey``, ...)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @property
    def cause(self) -> str:
        """The text a Step Functions cause carries for this failure, in the AWS SDK's layout."""
        return f"{self.message} (Service: S3, Status Code: {self.status}, Error Code: {self.code})"


def _no_such_bucket() -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist.", 404)


def _no_such_key() -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404)


def _access_denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied", 403)


def default_s3_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The root named by ``BATCHYARD_S3_ROOT`` (in ``environ``, default ``os.environ``), if any."""
    value = (os.environ if environ is None else environ).get(S3_ROOT_ENV, "")
    return Path(value) if value else None


@dataclass(frozen=True)
class S3Object:
    """One object as ``ListObjectsV2`` lists it."""

    key: str
    size: int
    etag: str
    last_modified: float


@dataclass(frozen=True)
class S3Mapping:
    """S3 buckets mapped onto a local directory: bucket ``b``, key ``k`` is ``root/b/k``."""

    root: Path

    @classmethod
    def resolve(cls, s3_root: Path | None, environ: Mapping[str, str] | None = None) -> S3Mapping:
        """The mapping for an explicit root, else for ``BATCHYARD_S3_ROOT``.

        With neither, every bucket is missing (``NoSuchBucket``), as for an account without it.
        """
        root = s3_root if s3_root is not None else default_s3_root(environ)
        if root is None:
            raise _no_such_bucket()
        return cls(root)

    def bucket_path(self, bucket: str) -> Path:
        """The directory of an existing bucket (``NoSuchBucket`` otherwise)."""
        # A bucket name is one path segment; anything else cannot name a bucket directory.
        if not bucket or "/" in bucket or "\\" in bucket or bucket in {".", ".."}:
            raise _no_such_bucket()
        path = self.root / bucket
        if not path.is_dir():
            raise _no_such_bucket()
        return path

    def object_path(self, bucket: str, key: str) -> Path:
        """The file holding ``key`` in ``bucket`` (it need not exist yet)."""
        base = self.bucket_path(bucket)
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or ".." in parts:
            raise _access_denied()
        return base.joinpath(*parts)

    def get_object(self, bucket: str, key: str) -> bytes:
        """The body of an object (``NoSuchKey`` when there is no such file)."""
        path = self.object_path(bucket, key)
        if not path.is_file():
            raise _no_such_key()
        return path.read_bytes()

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        """Store ``body`` under ``key``; like S3, intermediate "folders" need not exist."""
        path = self.object_path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def list_objects(self, bucket: str, prefix: str = "", delimiter: str = "") -> list[S3Object]:
        """Every object whose key starts with ``prefix``, in S3's order (UTF-8 byte order).

        With a ``delimiter``, keys holding it after the prefix are rolled up into common
        prefixes by S3, which ``ListObjectsV2`` reports apart from its ``Contents``; they are
        therefore left out here.
        """
        base = self.bucket_path(bucket)
        objects = []
        for key, path in _walk(base):
            if not key.startswith(prefix):
                continue
            if delimiter and delimiter in key[len(prefix) :]:
                continue
            stat = path.stat()
            body = path.read_bytes()
            objects.append(
                S3Object(
                    key=key,
                    size=stat.st_size,
                    # A single-part upload's ETag is the quoted MD5 of its body.
                    etag=f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
                    # S3 keeps LastModified to the second.
                    last_modified=float(int(stat.st_mtime)),
                )
            )
        return sorted(objects, key=lambda obj: obj.key.encode())


def _walk(base: Path) -> Iterator[tuple[str, Path]]:
    for directory, _dirs, files in os.walk(base):
        for name in files:
            path = Path(directory) / name
            yield path.relative_to(base).as_posix(), path


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``; the key may be empty."""
    if not uri.startswith(_S3_SCHEME):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len(_S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key


def resolve_location(location: str, *, s3_root: Path | None) -> Path:
    """The local file behind ``s3://bucket/key``, ``file:///path`` or a plain local path."""
    if location.startswith(_S3_SCHEME):
        bucket, key = parse_s3_uri(location)
        return S3Mapping.resolve(s3_root).object_path(bucket, key)
    if location.startswith(_FILE_SCHEME):
        return Path(location[len(_FILE_SCHEME) :])
    return Path(location)
