"""The exceptions of the ``rpol`` package.

Every exception the package raises on purpose is an :class:`RpolError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional


class RpolError(Exception):
    """Base class of every error raised by ``rpol``."""


@dataclass(frozen=True)
class Diagnostic:
    """One error found while loading a policy (or a mapping).

    ``code`` is a stable code such as ``E0201`` (``rpol explain CODE`` says
    more); ``file``, ``line`` and ``column`` (1-based) locate it where there
    is a file; ``help`` says how to fix it when a fix is known.
    """

    code: str
    severity: str
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    help: Optional[str] = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f" at {self.file}"
            if self.line is not None:
                where += f":{self.line}:{self.column}"
        text = f"{self.severity}[{self.code}]: {self.message}{where}"
        if self.help:
            text += f" (help: {self.help})"
        return text


class PolicyError(RpolError):
    """A policy that could not be loaded: ``.diagnostics`` lists why."""

    def __init__(self, diagnostics: List[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.diagnostics,))


class InvalidRequest(RpolError, ValueError):
    """A request that is not valid for the policy.

    ``.errors`` holds ``{"path": "$.consent.x", "message": ...}`` dicts, one
    per problem; ``.fallback`` is the decision a service serves for such a
    request (it never allows more than a valid request could).
    """

    def __init__(self, errors: List[Dict[str, str]], fallback: Dict[str, Any]) -> None:
        self.errors = list(errors)
        self.fallback = fallback
        text = "; ".join(f"{e['path']}: {e['message']}" for e in self.errors)
        super().__init__(f"invalid request: {text}")

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.errors, self.fallback))


class UnknownKind(RpolError, KeyError):
    """A retention kind that the policy does not declare."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.kind, self.args[0]))


class EnforceError(RpolError):
    """A table that could not be enforced: a mapping (request field ->
    column) that does not fit the policy or the table, a bad option, or a
    batch whose schema differs from the first one. ``.diagnostics`` lists
    why, each with its code (``E0901``...) and, for a mapping file, its
    place. Mapping problems are all found before any row is read."""

    def __init__(self, diagnostics: List[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.diagnostics,))
