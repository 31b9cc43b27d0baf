"""The root exception of nutgraf. Subclasses say what happened and what to do about it."""


class NutgrafError(Exception):
    """Base of every error nutgraf raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class TagsFileError(NutgrafError):
    """The user's tags file (setting `tags_file`) cannot be used as written."""

    exit_code = 2


class UnknownTagger(NutgrafError):
    """A tagger name that is not one of transforms.gazetteer.TAGGER_VERSIONS."""

    exit_code = 2


class InvalidTags(NutgrafError):
    """New tags broke a rule the gate holds tags to (a value outside its vocabulary, a span
    outside its paragraph); nothing was stored."""

    exit_code = 3
