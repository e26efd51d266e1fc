"""``make bench``'s users console figures: what access records cost.

Every look at an end user is an access record (PIPA; docs/pipa.md): one
Firestore write per page, and a count of its data subjects on the
background pool (the owners' alert, services/alerts.py). Issue 22 asks that
the users console's latency with records on stay within
:data:`TARGET` × its latency with them off. Two copies of the app, the same
settings but one served with ``BENCH_ACCESS_RECORDS=off`` (a switch of
``devtools/bench_app.py`` only: the product has no setting that turns a
legal duty off), answer three pages in interleaved rounds:

* ``users_list``: the first page of the users list (``USERS_PAGE_SIZE``
  users: a ``print`` record naming each);
* ``user_page``: one user's page (a ``view`` record);
* ``users_search``: a search by email, answered with the user's page
  itself (a ``search`` record with the query, written beside the admin
  read as the user's page writes its ``view``).

The figure per page is the median over the rounds of wrk's p50 latency,
records on ÷ records off, with one connection (``--users-connections``):
the time a person waits for the page. Under the throughput scenarios'
16 connections the p50 is queueing, which measures CPU per request, and
on this machine that includes the Firestore emulator's CPU for the write,
which real Firestore does not charge to the app's cores. The round trips
come from ``Server-Timing``.
Run alone (its own emulators; about two minutes)::

    .venv/bin/python -m devtools.bench_users
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable

import requests

from adminapp.testing import emulator_control

# Latency with records on, at most this many times that with them off.
TARGET = 1.3
# One list page: USERS_PAGE_SIZE's default.
END_USERS = 50
HTTP_TIMEOUT = 10
PAGES = ("users_list", "user_page", "users_search")
MODES = ("records_on", "records_off")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--users-connections",
        type=int,
        default=1,
        help="wrk connections of the users console figures (1: a person's wait, no queue)",
    )


def end_users(auth_host: str, project_api_key: str = "bench") -> dict[str, str]:
    """``END_USERS`` users in the Auth emulator; email -> uid."""
    made = {}
    for n in range(END_USERS):
        email = f"bench-user-{n}@example.com"
        response = requests.post(
            f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp",
            params={"key": project_api_key},
            json={"email": email, "password": "bench-user-password"},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        made[email] = response.json()["localId"]
    return made


def measure(
    args: argparse.Namespace,
    base_env: dict[str, str],
    auth_host: str,
    cookie: str,
    start_server: Callable,
    stop_server: Callable,
    new_figures: Callable[[], object],
    load: Callable[..., None],
    log: Callable[[str], None],
) -> dict:
    """The three pages on two servers (records on, off), ``args.rounds``
    interleaved rounds. ``cookie`` is a viewer's session under
    ``base_env``'s keys; ``load(server, path, expected, cookie, figures)``
    adds one wrk run to ``figures`` (bench.py's ``Figures``)."""
    users = end_users(auth_host)
    email, uid = next(iter(users.items()))
    paths = {
        "users_list": ("/admin/users/", 200),
        "user_page": (f"/admin/users/{uid}", 200),
        # A search answers with the user's page, recording the query.
        "users_search": (f"/admin/users/?q={email}", 200),
    }
    servers = {}
    try:
        servers["records_on"] = start_server(
            "users-records-on", base_env, args.workers, args.threads
        )
        servers["records_off"] = start_server(
            "users-records-off",
            {**base_env, "BENCH_ACCESS_RECORDS": "off"},
            args.workers,
            args.threads,
        )
        figures = {(page, mode): new_figures() for page in PAGES for mode in MODES}
        for number in range(1, args.rounds + 1):
            log(f"  users console round {number}/{args.rounds}")
            for page in PAGES:
                path, expected = paths[page]
                for mode in MODES:
                    load(servers[mode], path, expected, cookie, figures[page, mode])
        return {
            "connections": args.users_connections,
            **summarise(
                {page: {mode: figures[page, mode].summary() for mode in MODES} for page in PAGES}
            ),
        }
    finally:
        for server in servers.values():
            stop_server(server)


def summarise(figures: dict[str, dict[str, dict]]) -> dict:
    """Per page: both modes' figures, the p50 ratio (on ÷ off) and the
    Firestore round trips records add."""
    pages = {}
    for page, modes in figures.items():
        on, off = modes["records_on"], modes["records_off"]
        pages[page] = {
            **modes,
            "p50_on_vs_off": round(on["p50_ms"] / off["p50_ms"], 3) if off["p50_ms"] else None,
            "firestore_added_per_request": (
                round(on["firestore_per_request"] - off["firestore_per_request"], 4)
                if None not in (on["firestore_per_request"], off["firestore_per_request"])
                else None
            ),
        }
    return {"target_p50_ratio": TARGET, "pages": pages}


def targets(users: dict) -> dict[str, bool]:
    pages = users["pages"]
    return {
        f"users console p50 with access records ≤ {TARGET} × without ({', '.join(pages)})": all(
            figures["p50_on_vs_off"] is not None and figures["p50_on_vs_off"] <= TARGET
            for figures in pages.values()
        ),
        "access records: exactly 1 Firestore write per users console page": all(
            figures["firestore_added_per_request"] == 1 for figures in pages.values()
        ),
    }


def print_figures(users: dict) -> None:
    print(
        f"\nUsers console: access records on vs off (p50 ms, {users['connections']} "
        "connection(s), same run)"
    )
    for page, figures in users["pages"].items():
        on, off = figures["records_on"], figures["records_off"]
        print(
            f"  {page:<14} on {on['p50_ms']:>7.2f}  off {off['p50_ms']:>7.2f}  "
            f"ratio {figures['p50_on_vs_off']}  FS/req {on['firestore_per_request']} vs "
            f"{off['firestore_per_request']}"
        )


def main(argv: list[str] | None = None) -> None:
    """This round alone: its own emulators, an admin, the two servers."""
    from adminapp.testing import supervisor
    from devtools import bench

    supervisor.stop_all_on_exit()
    args = bench.parse_args(argv)
    emulators = emulator_control.start(bench.PROJECT, log_dir=bench.LOG_DIR)
    data = None
    try:
        os.environ.update(emulators.env)
        base = bench.app_env(emulators)
        data = bench.Data(emulators, base)
        [admin] = data.add_admins_with_users(1)
        users = measure(
            args,
            base,
            emulators.auth_host,
            data.seeded_session(admin, data.uids[admin]),
            bench.start_server,
            bench.stop_server,
            bench.Figures,
            bench.users_console_load(args),
            print,
        )
    finally:
        if data is not None:
            data.close()
        emulators.stop()
    print_figures(users)
    met = targets(users)
    for name, ok in met.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    print(json.dumps({"users_console": users, "targets": met}, ensure_ascii=False))


if __name__ == "__main__":
    main()
