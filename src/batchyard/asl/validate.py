"""Placeholder: the validation helper replaces this module (issue #2)."""

from __future__ import annotations

from typing import Any

from batchyard.asl.diagnostics import Diagnostic


def validate(definition: Any) -> list[Diagnostic]:
    raise NotImplementedError("validate is being written")
