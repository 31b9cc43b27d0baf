"""Imported once by the test process server before it forks `nutgraf` processes: pays the
start-up costs every real process pays (imports, the language model, the GX context) once.
Nothing here may start threads or use Polars, so forking after it stays safe."""

from expectations.gate import warm_up
from flows import cli, ingest  # noqa: F401
from transforms.gazetteer import load_language_identifier

load_language_identifier()
warm_up()
