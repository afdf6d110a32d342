"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from aimweb import create_app

app = create_app()
