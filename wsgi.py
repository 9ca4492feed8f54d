"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from uniqu3 import create_app

app = create_app()
