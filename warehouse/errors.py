"""Warehouse errors; all derive from the project's root exception."""

from transforms.errors import NutgrafError


class WarehouseError(NutgrafError):
    """Something about the warehouse file stopped the operation."""


class WarehouseMissing(WarehouseError):
    """The warehouse file does not exist yet."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse file."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class ReadOnlyViolation(WarehouseError):
    """A statement tried to change the warehouse through a read-only command."""

    exit_code = 2
