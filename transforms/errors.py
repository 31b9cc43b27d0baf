"""The root exception of nutgraf. Subclasses say what happened and what to do about it."""


class NutgrafError(Exception):
    """Base of every error nutgraf raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class TagsFileError(NutgrafError):
    """The user's tags file (setting `tags_file`) cannot be used as written."""

    exit_code = 2
