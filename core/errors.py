"""The one exception root of the product and its specific subclasses.

Every error a user can fix derives from :class:`ComplianceError`. Messages name the table,
column, file or key at fault and what was expected. Exit codes are not decided here: the CLI
maps exception classes to them (:func:`jobs.errors.exit_code_for`).
"""

from __future__ import annotations


class ComplianceError(Exception):
    """Root of every error raised by the product."""


class ConfigError(ComplianceError):
    """A configuration file is missing, unreadable, or has a missing/misspelt/ill-typed key."""


class UsageError(ComplianceError):
    """A command-line argument is wrong (bad date, unknown node, conflicting flags)."""


class TableError(ComplianceError):
    """A Delta table cannot be read or written (schema mismatch, commit conflict, bad layout)."""


class TableNotFoundError(TableError):
    """The table does not exist (yet): no Delta log at its location."""


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
