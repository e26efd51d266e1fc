"""gunicorn settings for serving adminapp: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Options given on the command line override the ones here. Before any worker
starts, the master checks the app's settings with the real number of
workers: rate limits counted in each worker's memory (``memory://``) are
refused with more than one worker, since each would allow the full limit.
The app refuses a second serving process by itself too, when gunicorn is
started without this file (adminapp/serving_process.py); this check only
refuses earlier, before any worker starts.
"""

from __future__ import annotations

import os

# WEB_CONCURRENCY and PORT as gunicorn itself reads them (Heroku, Cloud Run),
# with our defaults: two workers, every interface, port 8000.
bind = [f"0.0.0.0:{os.environ.get('PORT') or '8000'}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = 4
# One listening socket per worker, so the kernel spreads connections over
# them; with a shared socket one worker may take them all (see Performance).
reuse_port = True


def _log_config() -> dict:
    # LOG_FORMAT=json (the default in production on Cloud Run): gunicorn's
    # own lines, the master's included, are JSON too, like the app's.
    from dotenv import load_dotenv

    from adminapp.config import log_format_of
    from adminapp.logs import gunicorn_logconfig

    load_dotenv()  # as wsgi.py does: the environment wins over .env
    return gunicorn_logconfig(log_format_of(os.environ)) or {}


logconfig_dict = _log_config()
# gunicorn's access line, when one is written (with a logconfig, or
# --access-logfile): the path without its query string and no Referer, since
# either may carry a password-reset code or a token. Its default format has
# both ("%(r)s" is the whole request line).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


def on_starting(server):
    # Tell the app (loaded in each worker after the fork) how many workers
    # there are: its settings refuse memory:// rate limits with more than one.
    os.environ["WEB_CONCURRENCY"] = str(server.num_workers)
    _check_settings()


def nworkers_changed(server, new_value, old_value):
    # More workers at run time (SIGTTIN): the same rule as at start-up. A
    # refused increase is undone, which calls this hook again with one worker.
    from adminapp.config import ConfigError, load_settings

    os.environ["WEB_CONCURRENCY"] = str(new_value)
    if old_value is None or new_value <= old_value:
        return
    try:
        load_settings()
    except ConfigError as error:
        server.log.error("adminapp: not adding workers: %s", error)
        server.num_workers = old_value


def _check_settings():
    # Once here, before any worker starts: a refused configuration stops the
    # server with one message (gunicorn prints "Error: ..." and exits 1)
    # instead of every worker failing to boot. Each worker checks again.
    from dotenv import load_dotenv

    from adminapp.config import ConfigError, load_settings

    load_dotenv()  # as wsgi.py does: the environment wins over .env
    try:
        load_settings()
    except ConfigError as error:
        raise RuntimeError(f"adminapp cannot start: {error}") from None
