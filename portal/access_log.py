"""gunicorn's logger with residents' keys and staff searches left out.

``logger_class`` in portal/gunicorn.conf.py. Access log lines keep gunicorn's
format (``access_log_format``, the combined log by default), but the request
line, path, query string and referrer go through ``portal.redact``: no result or
cancel token, no query string on ``/admin/``, sign-up and result addresses, no
full phone. Any request header or environment value the format names
(``%({referer}i)s`` …) is redacted the same way; cookies and credentials become
``-``. Error log records (gunicorn's own: an invalid request line …) are
redacted too.
"""

import re

from gunicorn.glogging import Logger

from .redact import RedactingFilter, redact_path, redact_query, redact_text

NAMED_ATOM = re.compile(r"%\((\{[^}]+\}[ieo])\)")
SECRET_HEADERS = {
    "{cookie}i",
    "{authorization}i",
    "{proxy-authorization}i",
    "{set-cookie}o",
    "{http_cookie}e",
    "{http_authorization}e",
}


class PrivateLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        self.named_atoms = {
            name.lower() for name in NAMED_ATOM.findall(cfg.access_log_format or "")
        }
        if not any(isinstance(f, RedactingFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO") or ""
        method, uri = environ["REQUEST_METHOD"], redact_path(environ["RAW_URI"])
        atoms["r"] = f"{method} {uri} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = redact_path(path)
        atoms["q"] = redact_query(path, environ.get("QUERY_STRING"))
        atoms["f"] = redact_path(environ.get("HTTP_REFERER", "-"))
        for name in getattr(self, "named_atoms", ()):
            if name in SECRET_HEADERS:
                atoms[name] = "-"
            elif name == "{query_string}e":
                atoms[name] = atoms["q"]
            elif isinstance(atoms.get(name), str):
                atoms[name] = redact_text(atoms[name])
        return atoms
