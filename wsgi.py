"""WSGI entry point for gunicorn or any other WSGI server: ``gunicorn wsgi:app``."""

import gc

from core import create_app

app = create_app()
# The ~160,000 objects of the loaded application (modules, SQLAlchemy's mappers, the
# stemmers …) live as long as the worker: move them out of the collector's sight, so that a
# full collection walks only what requests create (it took ~100 ms per pause otherwise, in
# the middle of a search; see bench/RESULTS.md).
gc.freeze()
