"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`, behind a TLS proxy.

Environment:
  RUTA_BIND          address to listen on (default 127.0.0.1:8000: only the local proxy reaches it)
  RUTA_WORKERS       worker processes (default 2)
  RUTA_THREADS       threads per worker (default 4; gthread worker)
  RUTA_TIMEOUT       seconds before a stuck worker is restarted (default 60)
  RUTA_PROXY_HOPS    how many proxies in front set X-Forwarded-For/-Proto/-Host (default 1; 0 when there is none)

The app keeps no state between requests (server-side sessions and the login limiter live in the database or in
RATELIMIT_STORAGE_URI), so several of these servers can share one PostgreSQL.
"""
import os

wsgi_app = "wsgi:app"
bind = [os.environ.get("RUTA_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("RUTA_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("RUTA_THREADS", "4"))
timeout = int(os.environ.get("RUTA_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
# No control socket (gunicorn >= 25): nothing to manage at run time, and it would clash between instances.
control_socket_disable = True

# Structured JSON logs to standard error (journald keeps them): the access log carries the path WITHOUT the
# query string, the status, the duration and the request id, never the client address or user agent.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CASEAPP_LOG_LEVEL", "info").lower()
logger_class = "caseapp.logging_setup.GunicornLogger"
capture_output = False

# Production configuration unless told otherwise; JSON logs from the app too.
os.environ.setdefault("CASEAPP_CONFIG", "production")
os.environ.setdefault("CASEAPP_LOG_FORMAT", "json")

PROXY_HOPS = int(os.environ.get("RUTA_PROXY_HOPS", "1"))
# gunicorn trusts X-Forwarded-Proto only from these addresses (the proxy on the same machine).
forwarded_allow_ips = os.environ.get("RUTA_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def post_worker_init(worker):
    """The loaded app is frozen out of the cyclic collector (caseapp.worker.settle: no 75-180 ms pauses every few
    hundred requests). Behind the TLS proxy, take the client address and scheme from its X-Forwarded-* headers
    (werkzeug ProxyFix), so the access log and the per-address login limiter see the real client and cookies stay
    Secure."""
    from caseapp import worker as server_worker

    server_worker.settle()
    if PROXY_HOPS > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        worker.wsgi = ProxyFix(worker.wsgi, x_for=PROXY_HOPS, x_proto=PROXY_HOPS, x_host=PROXY_HOPS)
