"""Pseudonymisation: a person identifier (ID card or phone number) becomes a keyed HMAC-SHA256; the raw value is dropped."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

from gis.ingest.errors import IngestError
from gis.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "hmac.key"
_SEPARATORS = re.compile(r"[\s.\-()/]+")
# Vietnamese mobile numbers: +84 / 84 / 0 followed by 9 digits → one form, 0 + 9 digits.
_PHONE = re.compile(r"^(?:\+84|0084|84|0)([35789]\d{8})$")


def normalise(raw: str) -> str:
    """One spelling per identifier: no spaces or separators, upper case, phone numbers as 0xxxxxxxxx."""
    value = _SEPARATORS.sub("", raw).upper()
    phone = _PHONE.match(value)
    return "0" + phone.group(1) if phone else value


class Pseudonymiser:
    """Keyed HMAC-SHA256 of normalised identifiers: the same person gets the same key in every feed."""

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise IngestError("the HMAC secret is too short: use at least 16 bytes (COVIDGIS_HMAC_SECRET)")
        self._secret = secret
        self._cache: dict[str, str] = {}

    def key(self, raw: str | None) -> str | None:
        """The pseudonymous key of an identifier, or None when it is blank."""
        if raw is None:
            return None
        cached = self._cache.get(raw)
        if cached is not None:
            return cached
        value = normalise(str(raw))
        if not value:
            return None
        key = hmac.new(self._secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
        if len(self._cache) < 200_000:  # people recur across rows (check-ins); bound the memory
            self._cache[raw] = key
        return key


def load_secret(settings: Settings) -> bytes:
    """The deployment's HMAC secret: COVIDGIS_HMAC_SECRET, else var_dir/hmac.key (generated once, mode 0600)."""
    if settings.hmac_secret is not None:
        return settings.hmac_secret.get_secret_value().encode("utf-8")
    path = Path(settings.var_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.info("generated a new HMAC secret in %s (keep it: person keys depend on it)", path)
    return path.read_bytes().strip()
