"""gunicorn's own log lines, held to the service's rule: no secret and no caller text, at
any level.

Some of gunicorn's lines quote what a caller sent: at debug level the head of a request cut
short (its ``Authorization`` header with the hook secret or a bearer token); at warning
level the raw method, header name or version of an invalid request; at error level a
request's raw path. Those lines become a fixed text and the error's class, as the service
writes its own (its canonical line names a path it does not route "other"). gunicorn's
debug line of every request's method and path is not written at all
(``hook.gunicorn_conf.pre_request``).
"""

from __future__ import annotations

import logging
import sys

#: gunicorn's messages (their format, as its code writes them) that quote a caller, and the
#: fixed text each becomes. tests/test_log_leaks.py reads gunicorn's code for every message
#: with arguments, so that an upgrade that adds one fails there until it is placed here.
CALLER_TEXT = {
    "Ignored premature client disconnection. %s": "Ignored premature client disconnection",
    "Closing connection. %s": "Closing connection",
    "Error handling request %s %s": "Error handling request",
    "Error handling request %s": "Error handling request",
    "WSGI app sent body bytes on a no-body response (method=%s status=%s); dropping per RFC"
    " 9110.": "WSGI app sent body bytes on a no-body response; dropped",
    # HTTP/2, off unless gunicorn's http_protocols names h2:
    "HTTP/2 connection closed: %s": "HTTP/2 connection closed",
    "HTTP/2 protocol error from peer: %s": "HTTP/2 protocol error from peer",
    "HTTP/2 SSL error: %s": "HTTP/2 SSL error",
    "HTTP/2 connection error: %s": "HTTP/2 connection error",
    "HTTP/2 stream closed: %s": "HTTP/2 stream closed",
    "HTTP/2 error response failed: %s": "HTTP/2 error response failed",
}
#: How the one message gunicorn formats before logging it starts: "Invalid request from
#: ip=<address>: <the parse error, quoting the caller's method, header name, version or
#: request line>". It becomes "Invalid request".
INVALID_REQUEST = "Invalid request from ip="


class WithoutCallerText(logging.Filter):
    """A filter of the log's handler: each of gunicorn's lines that quotes a caller leaves
    with its fixed text, and ``error``: the class of the exception it reported."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("gunicorn") or not isinstance(record.msg, str):
            return True
        fixed = CALLER_TEXT.get(record.msg)
        if fixed is None and record.msg.startswith(INVALID_REQUEST):
            fixed = "Invalid request"
        if fixed is None:
            return True
        arguments = record.args if isinstance(record.args, tuple) else ()
        errors = [argument for argument in arguments if isinstance(argument, BaseException)]
        # gunicorn logs its errors from inside the ``except`` that caught them
        error = errors[0] if errors else sys.exc_info()[1]
        record.msg, record.args = fixed, ()
        if error is not None:
            record.error = type(error).__name__
        return True
