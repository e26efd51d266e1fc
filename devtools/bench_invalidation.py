"""``make bench``'s revocation figures: the session cache's invalidation channel.

Kept apart from ``bench.py``'s throughput run, which calls :func:`measure`
once its own scenarios are done. Two instances, A and B, each of
``--workers`` gunicorn workers with the session cache on:

* **reach, channel on**: open a session (through the app's store, as a
  sign-in does: no sign-in is measured here, and no TOTP code is spent or
  waited for), make every worker of B serve it from its cache, sign it out
  on A, then poll B with the old cookie
  on new connections (each lands on a worker the kernel picks) until every
  worker has refused it. The time from the sign-out's answer to the last
  worker's refusal, over ``--reach-trials`` trials.
* **Redis down**: stop Redis; B's guarded page must keep answering (reading
  Firestore: about the cache-off rate) and refuse a cookie signed out on A
  meanwhile on every worker; then start Redis and time until B's workers use
  their cache again.
* **reach, channel off**: the same trials on two instances without Redis and
  a short TTL (``--reach-off-ttl``): the per-process TTL is then the bound.

Which worker answered comes from the bench app's ``X-Bench-Worker`` header.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

import requests

from adminapp.testing import emulator_control
from devtools.redis_server import RedisServer

GUARDED, OPEN = "/admin/bench/guarded", "/admin/bench/open"
WORKER_HEADER = "X-Bench-Worker"
NO_FIRESTORE = 'firestore;desc="round trips";dur=0'
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HTTP_TIMEOUT = 10
POLL_DEADLINE = 120.0  # seconds; far above any TTL the bench uses
STALE_PROBES = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reach-trials", type=int, default=20, help="revocation-reach trials per mode"
    )
    parser.add_argument(
        "--reach-off-ttl",
        type=float,
        default=3,
        help="SESSION_CACHE_SECONDS of the channel-off reach trials (shorter than the "
        "throughput run's, so that the trials end in minutes; the figure scales with it)",
    )


# -- one request, one new connection --------------------------------------------


def probe(url: str, cookie: str) -> tuple[str, int, bool]:
    """(worker pid, status, served from cache) of one guarded request on a new
    connection, so that the kernel may hand it to any worker."""
    response = requests.get(
        url + GUARDED,
        headers={"Cookie": cookie, "Accept": "application/json", WORKER_HEADER: "1"},
        timeout=HTTP_TIMEOUT,
        allow_redirects=False,
    )
    cached = NO_FIRESTORE in response.headers.get("Server-Timing", "")
    return response.headers.get(WORKER_HEADER, "?"), response.status_code, cached


def until_every_worker(url: str, cookie: str, workers: int, wanted) -> float:
    """Seconds until each of ``workers`` workers has answered ``wanted(status, cached)``."""
    start = time.monotonic()
    seen: set[str] = set()
    while len(seen) < workers:
        if time.monotonic() - start > POLL_DEADLINE:
            raise RuntimeError(f"not every worker of {url} got there in {POLL_DEADLINE}s")
        pid, status, cached = probe(url, cookie)
        if wanted(status, cached):
            seen.add(pid)
    return time.monotonic() - start


def serves_from_cache(status: int, cached: bool) -> bool:
    return status == 200 and cached


def refuses(status: int, cached: bool) -> bool:
    return status != 200


def sign_out(url: str, cookie: str) -> None:
    session = requests.Session()
    page = session.get(f"{url}/admin/login", timeout=HTTP_TIMEOUT)
    token = CSRF_META.search(page.text).group(1)
    state = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    response = requests.post(
        f"{url}/admin/logout",
        headers={"Cookie": f"{state}; {cookie}", "X-CSRFToken": token, "Origin": url},
        timeout=HTTP_TIMEOUT,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-out answered {response.status_code}")


# -- the figures -------------------------------------------------------------------


def reach_trials(a, b, open_session: Callable[[], str], workers: int, trials: int) -> dict:
    """Open a session, cache it on every worker of B, sign it out on A,
    time B's refusals."""
    samples = []
    for _ in range(trials):
        cookie = open_session()
        until_every_worker(b.url, cookie, workers, serves_from_cache)
        sign_out(a.url, cookie)
        samples.append(until_every_worker(b.url, cookie, workers, refuses))
    return {
        "trials": trials,
        "p50_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
    }


def redis_down(a, b, redis_server, open_session, workers: int, wrk_guarded) -> dict:
    """Stop Redis: B keeps answering from Firestore and accepts nothing stale;
    start it: B's workers use their cache again."""
    staying = open_session()
    leaving = open_session()
    until_every_worker(b.url, staying, workers, serves_from_cache)
    until_every_worker(b.url, leaving, workers, serves_from_cache)

    redis_server.stop()
    bypassed_after = until_every_worker(
        b.url, staying, workers, lambda status, cached: status == 200 and not cached
    )
    sign_out(a.url, leaving)  # its publication cannot be delivered
    answers = [probe(b.url, leaving) for _ in range(STALE_PROBES)]
    load = wrk_guarded(b, staying)

    redis_server.start()
    cache_back_after = until_every_worker(b.url, staying, workers, serves_from_cache)
    return {
        "cache_bypassed_on_every_worker_after_s": round(bypassed_after, 3),
        "stale_probes": len(answers),
        "stale_accepted": sum(1 for _, status, _ in answers if status == 200),
        "workers_probed": len({pid for pid, _, _ in answers}),
        "guarded_while_down": load,
        "cache_used_again_on_every_worker_after_s": round(cache_back_after, 3),
    }


def measure(
    args, base_env: dict, open_session, start_server, stop_server, wrk_guarded, log
) -> dict:
    """The revocation figures, with their own instances and Redis.
    ``open_session()``: the Cookie header of a new session, open on the
    Firestore of ``base_env``."""
    server = RedisServer(port=emulator_control.free_port())
    server.start()
    started = []

    def instance(name: str, **extra: str):
        started.append(start_server(name, {**base_env, **extra}, args.workers, args.threads))
        return started[-1]

    try:
        on = {
            "SESSION_CACHE_SECONDS": str(args.cache_seconds),
            "SESSION_INVALIDATION_URL": server.uri,
        }
        a, b = instance("reach-a", **on), instance("reach-b", **on)
        log(f"Revocation reach, channel on ({args.reach_trials} trials)…")
        channel_on = reach_trials(a, b, open_session, args.workers, args.reach_trials)
        log("Redis down…")
        down = redis_down(a, b, server, open_session, args.workers, wrk_guarded)
        for process in started:
            stop_server(process)
        started.clear()

        off = {"SESSION_CACHE_SECONDS": str(args.reach_off_ttl), "SESSION_INVALIDATION_URL": "off"}
        a, b = instance("reach-off-a", **off), instance("reach-off-b", **off)
        log(f"Revocation reach, channel off ({args.reach_trials} trials)…")
        channel_off = reach_trials(a, b, open_session, args.workers, args.reach_trials)
    finally:
        for process in started:
            stop_server(process)
        server.stop()
    return {
        "instances": 2,
        "workers_per_instance": args.workers,
        "reach_channel_on": {**channel_on, "cache_seconds": args.cache_seconds},
        "reach_channel_off": {**channel_off, "cache_seconds": args.reach_off_ttl},
        "redis_down": down,
    }


def targets(ratios: dict, noise: float, invalidation: dict) -> dict[str, bool]:
    """The session cache's invalidation channel: fast to reach, cheap to run."""
    on = ratios["guarded_cache_on_channel_vs_unguarded"]
    down = invalidation["redis_down"]
    return {
        "channel on: cache on ≥ 0.85 × unguarded": on >= 0.85,
        "channel on: within noise of channel off": abs(on - ratios["guarded_cache_on_vs_unguarded"])
        <= noise,
        "revocation reaches every worker of the other instance ≤ 1 s (max)": invalidation[
            "reach_channel_on"
        ]["max_s"]
        <= 1.0,
        "Redis down: nothing stale accepted, guarded page answers from Firestore": down[
            "stale_accepted"
        ]
        == 0
        and down["guarded_while_down"]["errors"] == 0
        and down["guarded_while_down"]["firestore_per_request"] >= 0.99,
    }


def print_figures(invalidation: dict) -> None:
    on, off = invalidation["reach_channel_on"], invalidation["reach_channel_off"]
    down = invalidation["redis_down"]
    print(
        f"\nRevocation reach (2 instances × {invalidation['workers_per_instance']} workers, "
        f"until every worker of B refuses): channel on p50 {on['p50_s']}s max {on['max_s']}s; "
        f"channel off (TTL {off['cache_seconds']}s) p50 {off['p50_s']}s max {off['max_s']}s "
        f"({on['trials']} trials each)"
    )
    print(
        f"Redis down: guarded {down['guarded_while_down']['rps']} req/s, "
        f"{down['guarded_while_down']['firestore_per_request']} Firestore RT/req, "
        f"stale accepted {down['stale_accepted']}/{down['stale_probes']}; cache in use "
        f"again {down['cache_used_again_on_every_worker_after_s']}s after Redis restarted"
    )
