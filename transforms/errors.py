"""nutgraf's exceptions, classed by what the caller must do about them:

- `TransientError`: try again; the same call may succeed in a moment (the warehouse is busy).
  Prefect tasks retry these, and only these (flows.retries).
- `UsageError`: the caller asked for something that cannot be done as asked (an unknown
  tagger, an unreadable tags file): fix the request; retrying changes nothing.
- any other `NutgrafError`: fatal for this operation; the CLI prints one line and exits.

Bad input files are not exceptions: each is set aside with a reason code and the batch goes
on (transforms.schema's reasons, the quarantine table).
"""


class NutgrafError(Exception):
    """Base of every error nutgraf raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class TransientError(NutgrafError):
    """The operation may succeed if tried again later, unchanged."""

    exit_code = 75  # EX_TEMPFAIL


class UsageError(NutgrafError):
    """The request cannot be carried out as given; the message says what to change."""

    exit_code = 2


class TagsFileError(UsageError):
    """The user's tags file (setting `tags_file`) cannot be used as written."""


class UnknownTagger(UsageError):
    """A tagger name that is not one of the registry's (transforms.tagging.TAGGERS)."""


class InvalidTags(NutgrafError):
    """New tags broke a rule the gate holds tags to (a value outside its vocabulary, a span
    outside its paragraph); nothing was stored."""

    exit_code = 3


class ModelMismatch(NutgrafError):
    """A shipped model file is missing or was trained with another feature hash than this
    install computes (after a Polars upgrade): retrain it, as the message says."""
