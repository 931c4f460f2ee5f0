"""Live rooms: a lecturer publishes the view (the page's URL), followers receive it.

- ``codes``: room codes (40 bits, typed from a projector) and lecturer secrets
  (256 bits, kept only as a SHA-256 digest, compared in constant time);
- ``view``: what may be published: a page path and its query, checked like a URL;
- ``hub``: this process's followers, each with a one-message mailbox (latest only);
- ``broker``: where rooms live and how a publish reaches every process's hub:
  ``MemoryBroker`` in this process, ``RedisBroker`` across processes and replicas;
- ``service``: the broker this process uses (``CONVVIZ_REDIS_URL`` picks Redis).

Nothing here knows FastAPI; ``app.api.routes.rooms`` is the HTTP side.
"""
