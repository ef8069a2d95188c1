"""The portal itself, under every content app: settings, root URLconf, page cache
(pagecache.py, pagecache_local.py), security headers and CSP (security.py),
database failure handling (failure.py), client address and login lockout,
backup and restore (backup.py, ``backup_site`` / ``restore_site``), and the
``{% fragment %}`` tag. Nothing here imports a content app at module level;
content apps plug in through settings or their own ``AppConfig.ready``."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "门户基础"

    def ready(self):
        from portal import cache, pagecache

        pagecache.connect_signals()
        cache.on_reconnect(pagecache.redis_reconnected)
