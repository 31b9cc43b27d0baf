"""Warehouse errors; all derive from the project's root exception."""

from transforms.errors import NutgrafError, TransientError, UsageError


class WarehouseError(NutgrafError):
    """Something about the warehouse file stopped the operation."""


class WarehouseMissing(WarehouseError):
    """The warehouse file does not exist yet."""


class WarehouseBusy(WarehouseError, TransientError):
    """Another process holds the warehouse file."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class ReadOnlyViolation(WarehouseError, UsageError):
    """A statement tried to change the warehouse through a read-only command."""

    exit_code = 2


class AuditFailed(WarehouseError):
    """A batch broke an invariant of the warehouse (an audit returned rows): a bug, not bad
    input, so the batch is rolled back rather than quarantined."""
