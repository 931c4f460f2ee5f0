"""Exports of one operation: its step animation as GIF or PNG frames, its tensors as
JSON, and the same operation as runnable PyTorch code or a curl call.

Pillow and numpy only: nothing here knows about HTTP (``app.api.routes.export``
wires it to the web).
"""
