"""WSGI entry point for gunicorn or any other WSGI server: ``gunicorn wsgi:app``."""

from core import create_app

app = create_app()
