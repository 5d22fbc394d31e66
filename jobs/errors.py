"""The product's exceptions as the shell imports them (defined in :mod:`core.errors`).

The exit code of each is decided by the CLI (:func:`jobs.cli.exit_code_for`).
"""

from __future__ import annotations

from core.errors import (
    CommitConflictError,
    ComplianceError,
    ConfigError,
    InputError,
    JobError,
    LockError,
    SchemaMismatchError,
    TableError,
    TableNotFoundError,
    UsageError,
)

__all__ = [
    "CommitConflictError",
    "ComplianceError",
    "ConfigError",
    "InputError",
    "JobError",
    "LockError",
    "SchemaMismatchError",
    "TableError",
    "TableNotFoundError",
    "UsageError",
]
