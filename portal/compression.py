"""gzip for what the app itself serves: pages, feeds, JSON.

A page of the home's size is 24 KB of HTML and 5 KB gzipped; on a slow 4G line
inside WeChat that is most of the first screen. nginx compresses too
(deploy/nginx-portal.conf), but the app is also served without it (``make run``,
``make serve``) and the bytes then went out as they were.

``CompressionMiddleware`` is Django's ``GZipMiddleware`` limited to text: it
leaves alone what is not worth it (pictures, PDFs, already compressed files,
which it would compress only to throw the result away) and streaming responses
(WhiteNoise's static files, which come with their own ``.gz``). Django adds up to
100 random bytes to each compressed response (BREACH: a page that carries a CSRF
token never compresses the same twice).

The page cache (portal/pagecache.py) sits inside it and keeps one copy of a page,
gzipped once when stored (:func:`compress`: no padding, as a stored page carries
no secret — a response that sets a cookie, the CSRF token's, is never stored);
a hit is sent as stored to a browser that accepts gzip and unpacked for one that
does not, so hits and misses answer alike.
"""

import gzip

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip

# Below this, gzip's header and the padding outweigh the gain (Django's own limit).
MIN_LENGTH = 200
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/manifest+json",
    "image/svg+xml",
)


def compressible(response) -> bool:
    """A whole (not streaming) text response long enough to gain, not yet
    encoded."""
    content_type = response.get("Content-Type", "").lower()
    return (
        not response.streaming
        and content_type.startswith(TEXT_TYPES)
        and not response.has_header("Content-Encoding")
        and len(response.content) >= MIN_LENGTH
    )


def accepts_gzip(request) -> bool:
    return bool(re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def compress(content: bytes) -> bytes:
    """gzip without a timestamp: the same bytes give the same stored copy."""
    return gzip.compress(content, compresslevel=6, mtime=0)


def decompress(content: bytes) -> bytes:
    return gzip.decompress(content)


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not compressible(response):
            return response
        return super().process_response(request, response)
