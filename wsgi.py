"""Entry point for gunicorn and the flask CLI: ``app`` is the configured application."""

from assist import create_app

app = create_app()
