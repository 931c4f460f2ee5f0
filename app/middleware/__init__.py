"""Pure ASGI middleware guarding the whole app: body limits, compute slots, headers.

Each is a small class wired in ``app.main``; they know the paths they guard and the
limits of ``app.api.limits``, nothing of the routes behind them.
"""
