"""Fixes to pygeoapi's request path, applied once by create_app.

Speed: pygeoapi builds pyproj CRS objects from URIs and a Transformer for every items request (~18 ms with bbox,
measured in a trial of this stack on a 2-core machine). CRS URIs are few and pyproj CRS objects immutable, so they
are memoised, and a bbox given in the storage CRS is not transformed at all.

One API per audience: pygeoapi caches the config its HTML templates see per language for the whole process, so the
first audience to render a page in a language gave every other one its collections (an analyst's page of a
restricted collection then failed with a 500, the anonymous config lacking it). The cache is kept per config.
"""

from __future__ import annotations

import functools
import threading

import pygeoapi.api.itemtypes as itemtypes
import pygeoapi.api.tiles as tiles_api
import pygeoapi.l10n as l10n
import pygeoapi.util as util

from gis.serve import csv_formatter

_applied = False


def apply() -> None:
    """Memoise CRS lookups, skip identity bbox transforms, translate each API's config apart, serve f=csv with our
    formatter and the tile matrix set pages with our templates (idempotent)."""
    global _applied
    if _applied:
        return
    csv_formatter.register()
    cached_crs = functools.lru_cache(maxsize=64)(util.get_crs_from_uri)
    original_transform_bbox = util.transform_bbox

    def transform_bbox(bbox: list, from_crs: str, to_crs: str) -> list:
        if from_crs == to_crs or _same_crs(from_crs, to_crs):
            return list(bbox)
        return original_transform_bbox(bbox, from_crs, to_crs)

    util.get_crs_from_uri = cached_crs
    itemtypes.get_crs_from_uri = cached_crs
    util.transform_bbox = transform_bbox
    itemtypes.transform_bbox = transform_bbox
    l10n.translate_struct = _per_config(l10n.translate_struct)
    tiles_api.render_j2_template = _with_templates(tiles_api.render_j2_template)
    _applied = True


@functools.lru_cache(maxsize=64)
def _same_crs(a: str, b: str) -> bool:
    return util.get_crs_from_uri(a) == util.get_crs_from_uri(b)


def _per_config(translate_struct):
    """pygeoapi's translate_struct, with translated configs cached per config object and language (pygeoapi: per
    language only). Configs are few (one per audience) and live as long as their API; so do the entries."""
    translated: dict[tuple[int, str], tuple[dict, dict]] = {}
    lock = threading.Lock()

    def per_config(struct, locale_, is_config: bool = False):
        if not (is_config and struct and locale_):
            return translate_struct(struct, locale_, is_config)
        key = (id(struct), str(locale_))
        with lock:
            if key not in translated:
                l10n._cfg_cache.clear()  # pygeoapi's own cache would hand back another config's translation
                translated[key] = (struct, translate_struct(struct, locale_, True))
            return translated[key][1]

    return per_config


def _with_templates(render):
    """pygeoapi's tile matrix set pages pass the whole config where the template config belongs, so they ignore
    `server.templates` (our overrides, gis/serve/templates): give them the configured one."""

    @functools.wraps(render)
    def render_j2_template(config: dict, tpl_config: dict, *args, **kwargs):
        if "path" not in tpl_config and "server" in tpl_config:
            tpl_config = tpl_config["server"]["templates"]
        return render(config, tpl_config, *args, **kwargs)

    return render_j2_template
