"""Ruta: case management for the attention route for victims of trafficking in persons."""
from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask

from caseapp.template_language import LanguageEnvironment

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def resource_dir(name: str) -> Path:
    """templates/ or migrations/: at the repository's top level, or inside the package when installed from a wheel
    (the build hook in setup.py puts them there)."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else ROOT / name

# Web areas, each a blueprint package under caseapp/web/ (one per domain area).
WEB_AREAS = ("auth", "main", "admin", "cases", "route", "referrals", "indicators", "audit",
             "assignments", "legal", "attachments", "family", "safety", "notifications")


def create_app(config) -> Flask:
    """Create and configure an instance of the Flask application from a config object (see config.py)."""
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    app.jinja_environment = LanguageEnvironment  # before anything builds app.jinja_env: templates per language
    app.config.from_object(config)

    from caseapp import compiled_cache, database, logging_setup, security
    from caseapp.extensions import babel, csrf, db, limiter, login_manager, migrate
    from caseapp.i18n import RequestDomain, install_babel_context, install_wtforms_translations, select_locale

    logging_setup.init_app(app)
    # statements used again are found in SQLAlchemy's cache without hashing their keys (caseapp.compiled_cache)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = compiled_cache.engine_options(app.config.get("SQLALCHEMY_ENGINE_OPTIONS"))
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(PACKAGE / "translations"))
    babel.domain_instance = RequestDomain()  # the default domain ("messages"), its translations held per request
    install_wtforms_translations()
    install_babel_context()
    limiter.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)

    # Ids in URLs are bounded to the database's integer range: a larger one is a 404, not an error from PostgreSQL.
    app.url_map.converters["int"] = security.BoundedIntConverter

    for area in WEB_AREAS:
        module = importlib.import_module(f"caseapp.web.{area}")
        app.register_blueprint(module.bp)

    from caseapp import api

    api.init_app(app)

    from caseapp import cli, templating

    cli.init_app(app)
    templating.init_app(app)
    return app
