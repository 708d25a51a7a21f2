"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from intake import create_app

app = create_app()
