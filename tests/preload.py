"""Imported once by the test process server before it forks `nutgraf` processes: pays the
start-up costs every real process pays (imports, the language model, the GX context) once.
Nothing here may start threads or use Polars, so forking after it stays safe."""

from expectations.gate import warm_up
from flows import cli, ingest  # noqa: F401
from transforms.langid import load_configured_model

load_configured_model()
warm_up()
