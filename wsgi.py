"""The application object for `flask` and gunicorn (`gunicorn wsgi:app`)."""
import config
from caseapp import create_app

app = create_app(config.load())
