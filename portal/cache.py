"""Django's Redis cache backend with one redis client per connection pool.

Django builds a new ``redis.Redis`` for every cache call, and redis-py fills a
case-insensitive table of some 170 response callbacks in each constructor: about
a third of the time it takes to serve a page from the shared page cache. A
``redis.Redis`` only wraps its (thread-safe) connection pool, so one per pool is
kept and reused; the pools themselves are Django's.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = clients[index] = self._client(connection_pool=pool)
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def redis_client(self):
        """The redis-py client of the server writes go to, for what Django's cache
        API has no call for (the page cache's pub/sub channel)."""
        return self._cache.get_client(write=True)
