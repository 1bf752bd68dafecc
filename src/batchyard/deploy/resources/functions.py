"""Lambda functions from a directory: the code is a zip whose bytes depend only on the files,
so its ``CodeSha256`` tells whether the code changed; the configuration is compared field by
field."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from batchyard.deploy.changes import Change, Context, differences
from batchyard.deploy.model import Function


def functions(ctx: Context) -> Iterator[Change]:
    needed = bool(ctx.project.functions)
    listed = ctx.call(
        "Lambda",
        "ListFunctions",
        needed,
        lambda: [
            function
            for page in ctx.c.lambda_.get_paginator("list_functions").paginate()
            for function in page.get("Functions", [])
        ],
    )
    if listed is None:
        return
    lam = ctx.c.lambda_
    existing = {f["FunctionName"]: f for f in listed}
    for name, function in ctx.project.functions.items():
        archive = zip_directory(function.directory)
        digest = base64.b64encode(hashlib.sha256(archive).digest()).decode()
        configuration = _function_configuration(function)
        current = existing.get(name)
        if current is None:
            yield Change(
                "create",
                "function",
                name,
                run=partial(
                    lam.create_function,
                    FunctionName=name,
                    Code={"ZipFile": archive},
                    Tags=dict(ctx.tags),
                    Publish=False,
                    **configuration,
                ),
            )
            continue
        changed = differences(configuration, current)
        steps: list[Callable[[], Any]] = []
        if changed:
            steps.append(
                partial(lam.update_function_configuration, FunctionName=name, **configuration)
            )
        if current.get("CodeSha256") != digest:
            changed.append("code")
            steps.append(partial(lam.update_function_code, FunctionName=name, ZipFile=archive))
        if changed:
            yield Change(
                "update",
                "function",
                name,
                [f"changed: {', '.join(changed)}"],
                run=_sequence(steps, lam, name),
            )
        else:
            yield Change("unchanged", "function", name)
    for name in existing:
        if name in ctx.project.functions:
            continue
        tags = lam.get_function(FunctionName=name).get("Tags", {})
        if ctx.owned(tags):
            yield Change(
                "delete",
                "function",
                name,
                run=partial(lam.delete_function, FunctionName=name),
            )


def _function_configuration(function: Function) -> dict[str, Any]:
    return {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": function.role,
        "Timeout": function.timeout,
        "MemorySize": function.memory,
        "Description": function.description,
        "Environment": {"Variables": dict(function.environment)},
    }


def _sequence(steps: list[Callable[[], Any]], lam: Any, name: str) -> Callable[[], None]:
    def run() -> None:
        for index, step in enumerate(steps):
            if index:  # Lambda refuses a second update while the first is in progress
                _wait_updated(lam, name)
            step()

    return run


def _wait_updated(lam: Any, name: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus")
        if status != "InProgress":
            return
        time.sleep(0.5)


def zip_directory(directory: Path) -> bytes:
    """The directory as a zip whose bytes depend only on file names and contents.

    Fixed timestamps and a sorted order make the archive -- and so Lambda's ``CodeSha256`` --
    the same on every deploy of unchanged code, which is what lets the plan say "unchanged".
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
