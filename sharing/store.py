"""Posters are drawn once per published revision and kept in the default storage
(the media folder, or shared storage when several machines serve the site):

    posters/<page id>/<page id>-<live revision id>-<url key>-<fingerprint>.png

The fingerprint covers every text on the poster, the canonical URL, the picture, the
site settings shown, the font and the layout version; so a new revision, a moved
page, a renamed site or a recurring activity's next date each give a new name, and
an unchanged poster keeps its name on every machine. When a new file is stored, the
page's stale ones are deleted: those of other revisions, and those for the same
address with other content. (The url key keeps a poster per address the site
answers on — the canonical URL follows the request's host when it is not the
site's own, as on the demo — so two hosts do not delete each other's poster.)
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from . import posters

logger = logging.getLogger(__name__)

FOLDER = "posters"
# How long another request waits for a poster that is being drawn (drawing takes
# well under a second; the lock expires by itself if its process dies).
LOCK_SECONDS = 20


@dataclass(frozen=True)
class PosterFile:
    page_id: int
    revision_id: int
    url_key: str
    fingerprint: str
    last_modified: datetime

    @property
    def version(self) -> str:
        return f"{self.revision_id}-{self.url_key}-{self.fingerprint}"

    @property
    def name(self) -> str:
        return f"{FOLDER}/{self.page_id}/{self.page_id}-{self.version}.png"

    @property
    def etag(self) -> str:
        return f'"{self.page_id}-{self.version}"'


def poster_file(page, data: posters.PosterData, last_modified) -> PosterFile:
    # Pages created in code (tests, imports) may be live without a revision.
    return PosterFile(
        page_id=page.pk,
        revision_id=page.live_revision_id or 0,
        url_key=hashlib.sha256(data.url.encode()).hexdigest()[:8],
        fingerprint=data.fingerprint()[:16],
        last_modified=last_modified,
    )


def _lock_key(poster: PosterFile) -> str:
    return f"sharing:poster-lock:{poster.name}"


def ensure(poster: PosterFile, data: posters.PosterData) -> bool:
    """Make sure ``poster.name`` is in storage, drawing it if needed. Returns True
    if it was drawn now. Raises PosterFontError when the font is missing.

    Storage writes are not atomic (a reader could open a half-written file), so the
    drawing process holds a lock in the shared cache while it draws and writes;
    readers check for the file first and the lock second, and wait for a lock."""
    lock = _lock_key(poster)
    if default_storage.exists(poster.name) and not cache.get(lock):
        return False
    if not cache.add(lock, 1, LOCK_SECONDS):
        deadline = time.monotonic() + LOCK_SECONDS
        while cache.get(lock) and time.monotonic() < deadline:
            time.sleep(0.05)
        if default_storage.exists(poster.name):
            return False
        # The other process gave up (or died): draw it here.
        cache.add(lock, 1, LOCK_SECONDS)
    try:
        if default_storage.exists(poster.name):
            return False
        rendered = posters.render_poster(data)
        saved = default_storage.save(poster.name, ContentFile(rendered.png))
        if saved != poster.name:
            # The storage had it after all (another machine, no shared lock): the
            # content is the same, keep one copy.
            default_storage.delete(saved)
        remove_stale(poster)
        return True
    finally:
        cache.delete(lock)


def remove_stale(poster: PosterFile) -> None:
    """Delete the page's posters of other revisions, and of this revision for the
    same address with other content."""
    current = f"{poster.page_id}-{poster.revision_id}-"
    same_address = f"{current}{poster.url_key}-"

    def stale(filename: str) -> bool:
        return not filename.startswith(current) or filename.startswith(same_address)

    delete_posters(poster.page_id, keep=poster.name, only=stale)


def delete_posters(page_id: int, keep: str = "", only=None) -> None:
    folder = f"{FOLDER}/{page_id}"
    try:
        _, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for filename in files:
        name = f"{folder}/{filename}"
        if name == keep or not filename.endswith(".png"):
            continue
        if only is None or only(filename):
            default_storage.delete(name)
            logger.info("已删除过期海报 %s", name)
