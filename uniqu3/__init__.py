"""UNIQU3: order processing for UNIQU3APP marketplace sellers."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .config import INSTANCE, ROOT


def create_app(test_config: dict[str, Any] | None = None, *, profile: str | None = None) -> Flask:
    """The app factory. `test_config` overrides the chosen profile's settings."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    profile = "testing" if test_config is not None and profile is None else profile
    settings = config_module.load(profile)
    server_warning = config_module.check_server(
        settings["UNIQU3_PROFILE"], chosen=profile is not None or bool(os.environ.get("UNIQU3_ENV")))
    app.config.from_mapping(settings)
    if test_config:
        app.config.from_mapping(test_config)
    config_module.check(app.config)
    INSTANCE.mkdir(exist_ok=True)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Behind N proxies, the client's address and scheme are what the Nth one saw: the login
        # throttle and the buyer's proof of receipt then name the buyer, not the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]  # middleware, as Flask documents

    from . import csrf_tokens, database, i18n, models, security, session_cookies, static_files, templating  # noqa: F401  (models)
    from .extensions import babel, csrf, db, login_manager, migrate

    database.init_app(app)
    db.init_app(app)
    with app.app_context():
        database.ping_idle_connections(app, db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    login_manager.init_app(app)
    session_cookies.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    static_files.init_app(app)

    from . import api, auth, buyer, cli, dev, seller

    for feature in (auth, seller, buyer, api, cli, dev):
        feature.init_app(app)
    # After the features' hooks: a session the idle check has just ended has no CSRF secret left.
    csrf_tokens.init_app(app)

    import jobs

    jobs.init_app(app)

    if app.config["UNIQU3_PROFILE"] != "testing":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if server_warning:
        logging.getLogger(__name__).warning(server_warning)
    return app
