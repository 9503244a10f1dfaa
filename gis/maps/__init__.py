"""The live risk map at /map: a page of our own with local assets and no inline script or style, and the small JSON API
it reads."""
