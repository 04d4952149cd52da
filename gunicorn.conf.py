"""Production gunicorn settings for the Tracemark portal.

    gunicorn -c gunicorn.conf.py 'tracemark.app:create_app()'

Every knob that differs between deployments is read from a ``TRACEMARK_*`` environment
variable, like the app's own settings (see ``tracemark/config.py``); a command-line flag
still overrides this file (gunicorn applies the command line last).

A verification is CPU work (Ed25519, Flask, psycopg, Jinja) interleaved with two short
round trips (one to PostgreSQL, one to Redis), during which a thread releases the GIL.
Hence one process per core (CPU) plus a few threads in each (to overlap the I/O waits).
``benchmarks/portal_load.py`` measures the result against a bare Flask app served by
this same file.
"""

from __future__ import annotations

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cores() -> int:
    """Cores this process may run on (honours CPU affinity / cpusets, unlike cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Where to listen; several addresses may be given, comma-separated. Loopback by default:
#: the service is meant to sit behind a reverse proxy / load balancer (which buffers slow
#: clients and terminates TLS); set e.g. ``0.0.0.0:8000`` in a container.
bind = [a.strip() for a in os.environ.get("TRACEMARK_BIND", "127.0.0.1:8000").split(",")]

#: Worker processes: gunicorn's usual ``2 * cores + 1``, capped at 12. The cap keeps the
#: PostgreSQL connection budget bounded on big hosts: each worker holds up to ``threads``
#: busy connections (its SQLAlchemy pool allows 5 + 10 overflow), and several hosts share
#: the server's ``max_connections`` (100 by default). ``TRACEMARK_WORKERS`` overrides.
workers = _env_int("TRACEMARK_WORKERS", 0) or min(2 * _cores() + 1, 12)

#: Threads per worker. While one thread waits on PostgreSQL or Redis another runs Python,
#: so a few threads lift throughput over ``sync`` at equal process count; more than a few
#: only contend for the GIL (and each needs its own pooled DB connection, so keep this
#: at or below the pool size of 5 to never wait on the pool).
threads = _env_int("TRACEMARK_THREADS", 4)

#: ``gthread``: threads as above, and HTTP keep-alive (``sync`` closes every connection,
#: so each scan would pay a new TCP handshake from the proxy). Compared with
#: ``benchmarks/portal_load.py --worker-class sync``: the bare app served about 2x the
#: requests under gthread, verification the same within noise (it is CPU-bound), and 8
#: threads gained nothing over 4. Sync's one edge: a tighter p99 once saturated (one
#: shared accept queue, while a keep-alive connection stays on its gthread worker).
worker_class = "gthread"

#: A request taking longer than this is stuck (a scan takes milliseconds): the arbiter
#: kills and replaces its worker. Graceful shutdown/reload lets in-flight scans finish.
timeout = 30
graceful_timeout = 30
#: Seconds an idle keep-alive connection is kept open (proxy or phone). Short, since each
#: open connection occupies a slot in the worker's poller, not a thread.
keepalive = 5

#: Recycle each worker after about this many requests, so a slow leak (in a C extension,
#: a cache) cannot grow forever; the jitter keeps workers from restarting all at once.
#: ``TRACEMARK_MAX_REQUESTS=0`` disables recycling.
max_requests = _env_int("TRACEMARK_MAX_REQUESTS", 10_000)
max_requests_jitter = max_requests // 10

#: Access log off by default: the proxy in front logs requests already, and one log line
#: per scan costs measurable CPU at this rate. ``TRACEMARK_ACCESS_LOG=-`` (stdout) or a
#: file path turns it on. Errors always go to stderr (or ``TRACEMARK_ERROR_LOG``).
accesslog = os.environ.get("TRACEMARK_ACCESS_LOG") or None
errorlog = os.environ.get("TRACEMARK_ERROR_LOG") or "-"
loglevel = os.environ.get("TRACEMARK_LOG_LEVEL", "info")

#: Not preloaded: every worker imports the app and builds its own SQLAlchemy engine,
#: connection pool and Redis client after the fork, so no socket is ever shared between
#: processes (a forked pool hands the same PostgreSQL connection to two workers).
preload_app = False

#: Proxies whose X-Forwarded-Proto/-Ssl headers gunicorn trusts to set the request scheme
#: (so ``request.is_secure`` and HSTS work behind TLS termination). Comma-separated IPs or
#: CIDRs; the client address itself is taken from X-Forwarded-For by the app, for
#: ``TRACEMARK_PROXIES`` hops only.
forwarded_allow_ips = os.environ.get("TRACEMARK_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

#: The workers' heartbeat file on tmpfs where there is one: on a disk-backed /tmp (as in
#: many containers) the heartbeat's fchmod can stall a worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

#: A code URL is at most 512 characters, about 1,540 once percent-encoded into the API's
#: ``?url=``; gunicorn's default request-line limit (4094) covers it, so keep it.
limit_request_line = 4094

proc_name = "tracemark"
