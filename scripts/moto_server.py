"""moto server for the test suite, applying one request at a time.

DynamoDB runs conflicting transactions as if one after the other. moto's threaded server
does not: two TransactWriteItems can interleave, so a race test could see two winners where
DynamoDB has exactly one. Connections are still accepted concurrently (threaded server);
only the handling of each request holds a lock.

Usage: python scripts/moto_server.py HOST PORT [CERT_PEM KEY_PEM]
With a certificate and key it serves HTTPS (the benchmark's TLS endpoint).
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main(host, port, cert=None, key=None):
    os.environ.setdefault("MOTO_PORT", port)
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    tls = (cert, key) if cert else None
    run_simple(host, int(port), one_at_a_time, threaded=True, request_handler=MotoRequestHandler,
               ssl_context=tls)


if __name__ == "__main__":
    main(*sys.argv[1:5])
