"""The client's address, decided in one place for everything that keys on it: the
staff login lockout (django-axes, ``AXES_CLIENT_IP_CALLABLE``) and the sign-up rate
limits (``events/limits.py``).

``TRUSTED_PROXY_COUNT`` says how many reverse proxies we run in front of the app
server. Each of them appends the address it received the connection from to
``X-Forwarded-For``; whatever stands to the left of what our own proxies wrote was
sent by the client and can say anything. So:

* ``0`` (the default: nothing in front, or a proxy that does not append): the
  TCP peer, ``REMOTE_ADDR``. ``X-Forwarded-For`` is ignored entirely.
* ``N``: the N-th entry from the right of ``X-Forwarded-For`` — the address the
  outermost of our N proxies saw. With fewer than N entries (a request that did
  not come through all the proxies, e.g. from inside the network) or an entry that
  is not an address, ``REMOTE_ADDR``.

Counting from the left ("the first address is the client") is the classic mistake:
a client sending ``X-Forwarded-For: 1.2.3.4`` would then choose its own address,
dodging its lockout or locking out someone else.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The address to key lockouts and limits on, normalised (``::ffff:1.2.3.4``
    → ``1.2.3.4``, IPv6 compressed); ``""`` when the request has none (a request
    object built in code, e.g. by the test client's ``force_login``)."""
    meta = request.META
    remote = _normalise(meta.get("REMOTE_ADDR", "")) or ""
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    # Several X-Forwarded-For header lines arrive joined with commas.
    entries = [e.strip() for e in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < trusted:
        return remote
    return _normalise(entries[-trusted]) or remote


def _normalise(value: str) -> str | None:
    """An address as one canonical string, or None for anything else. Accepts
    the forms proxies write: ``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:443``,
    ``2001:db8::1``."""
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
