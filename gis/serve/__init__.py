"""Serving: the ASGI app around pygeoapi."""
