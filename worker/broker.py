"""What the web process knows about the broker."""

from django.conf import settings


def broker_state() -> str:
    """``"eager"`` without a broker (tasks run in-process), else ``"ok"`` or ``"down"`` from a Redis ping."""
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        return "ok" if client.ping() else "down"
    except redis.RedisError:
        return "down"
