"""The root exception of nutgraf. Subclasses say what happened and what to do about it."""


class NutgrafError(Exception):
    """Base of every error nutgraf raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1
