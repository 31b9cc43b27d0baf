"""Imported once by the test process server before it forks `nutgraf` processes: pays the
start-up costs every real process pays (imports, the language model, the GX context, the
gazetteer's place lists, the HTML extractor) once. Nothing here may start threads or use
Polars, so forking after it stays safe."""

import lxml.html  # noqa: F401 - the HTML extractor, imported by the first HTML file (~2 s)
import trafilatura  # noqa: F401

from expectations.gate import warm_up
from flows import cli, ingest  # noqa: F401
from flows.settings import load_settings
from transforms.gazetteer import geonames
from transforms.langid import load_model

load_model(load_settings().cache_dir.resolve())
warm_up()
geonames()
