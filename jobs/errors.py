"""The one exception root of the product and its specific subclasses.

Every error a user can fix derives from :class:`ComplianceError`; the CLI prints its message on one
line and exits with the error's ``exit_code`` (2 for usage/configuration errors, 3 for job
failures). Messages name the table, column, file or key at fault and what was expected.
"""

from __future__ import annotations


class ComplianceError(Exception):
    """Root of every error raised by the product."""

    exit_code: int = 3


class ConfigError(ComplianceError):
    """A configuration file is missing, unreadable, or has a missing/misspelt/ill-typed key."""

    exit_code = 2


class UsageError(ComplianceError):
    """A command-line argument is wrong (bad date, unknown node, conflicting flags)."""

    exit_code = 2


class TableError(ComplianceError):
    """A Delta table cannot be read or written (missing table, schema mismatch, commit conflict)."""


class SchemaMismatchError(TableError):
    """A write whose schema does not match the table's schema."""


class CommitConflictError(TableError):
    """A concurrent commit won the race and the retries were exhausted."""


class InputError(ComplianceError):
    """An input file cannot be read at all (as opposed to a bad row, which is rejected)."""


class JobError(ComplianceError):
    """A job step failed."""


class LockError(ComplianceError):
    """Another run holds the warehouse lock."""

    exit_code = 2
