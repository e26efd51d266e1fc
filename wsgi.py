"""WSGI entry point: ``gunicorn wsgi:app`` (and ``flask --app wsgi …``)."""

from dotenv import load_dotenv

from adminapp import create_app

# Settings come from the environment; a .env file fills in what is unset.
load_dotenv()

app = create_app()
