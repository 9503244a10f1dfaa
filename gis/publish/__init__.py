"""publish: each zone snapshot as static files for any CDN or object store (issue 15, item 1)."""
