"""The shape of one validation finding, like AWS ``ValidateStateMachineDefinitionDiagnostic``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["ERROR", "WARNING"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a definition.

    ``location`` is a JSON Pointer into the definition (``/States/Fetch/Next``); ``code`` is one of
    AWS's diagnostic codes (``SCHEMA_VALIDATION_FAILED``, ...).
    """

    severity: Severity
    code: str
    message: str
    location: str = ""

    def to_dict(self) -> dict[str, str]:
        """The wire shape of ``ValidateStateMachineDefinition``'s ``diagnostics`` items."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": self.location,
        }
