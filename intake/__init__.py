"""The Flask application: one create_app wires every extension and blueprint."""

import os

from flask import Flask
from flask_babel import Babel

from intake import config as config_module
from intake.extensions import csrf, db, login_manager, migrate
from intake.logconfig import configure_logging
from intake.navigation import IdConverter, reject_nul_characters
from intake.pool import ping_when_idle

ROOT = config_module.ROOT
babel = Babel()


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application; settings come from the environment (see intake/config.py)."""
    configure_logging((overrides or {}).get("LOG_LEVEL"))
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "intake", "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or os.path.join(ROOT, "instance"),
    )
    # every <int:…> in a route stops at the largest id the database holds (else a 404)
    app.url_map.converters["int"] = IdConverter
    app.before_request(reject_nul_characters)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.load(app.instance_path, overrides))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")

    app.json.ensure_ascii = False  # readable Chinese in API answers
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app)

    # Imported when an app is built, not when the package is: a worker or a command that imports
    # intake.extensions or intake.cases does not load every web area for it. (No cycle needs this.)
    from intake import models  # noqa: F401  (registers every table with the metadata)
    from intake.accounts.views import bp as accounts_bp
    from intake.admin.views import bp as admin_bp
    from intake.api.views import bp as api_bp
    from intake.businesses.views import bp as businesses_bp
    from intake.callbacks.views import bp as callbacks_bp
    from intake.cases.views import bp as public_bp
    from intake.dispatch.views import bp as dispatch_bp
    from intake.health.views import bp as health_bp
    from intake.hotline.views import bp as hotline_bp
    from intake.open311.views import bp as open311_bp
    from intake.places.views import bp as places_bp
    from intake.reports.views import bp as reports_bp
    from intake.sms.views import bp as sms_bp
    from intake.staff.views import bp as staff_bp

    for blueprint in (
        public_bp,
        api_bp,
        open311_bp,
        accounts_bp,
        staff_bp,
        dispatch_bp,
        admin_bp,
        reports_bp,
        hotline_bp,
        places_bp,
        sms_bp,
        businesses_bp,
        callbacks_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)
    csrf.exempt(open311_bp)  # another system's form-encoded POST, with its API key

    from intake.accounts.cli import create_user_command
    from intake.cli import demo_command, seed_command, worker_command
    from intake.reference.cli import divisions_cli
    from routing.calendar_cli import calendar_cli, sla_cli
    from routing.cli import routing_cli

    for command in (
        seed_command,
        worker_command,
        create_user_command,
        demo_command,
        divisions_cli,
        routing_cli,
        sla_cli,
        calendar_cli,
    ):
        app.cli.add_command(command)

    from intake import authz, errors, filters, forms, jobcontext, logconfig, metrics, security, throttles, transaction

    metrics.init_app(app)  # first: its timer starts before the other hooks run
    errors.init_app(app)
    security.init_app(app)
    logconfig.init_app(app)
    filters.init_app(app)
    transaction.init_app(app)
    forms.init_app(app)  # after transaction: its 4xx is answered before the commit hook decides
    throttles.init_app(app)
    authz.init_app(app)  # last: it checks that every route has an entry in the table
    jobcontext.register_app_factory(lambda: create_app(overrides))
    return app
