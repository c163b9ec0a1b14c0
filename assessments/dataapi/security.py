"""Signed requests: Learnosity's security packet, checked exactly as the official SDKs sign it.

The signature covers ``consumer_key _ domain _ timestamp [_ expires] [_ user_id] _ request _ action`` — the
security values present, always in that order, then the **raw** ``request`` form value exactly as received
(never re-serialised: every SDK serialises differently), then ``action`` when the field was sent:

- ``$02$`` + HMAC-SHA256(key=secret, message=pre-hash), 68 characters (current SDKs);
- legacy: SHA-256 of the pre-hash with the secret inserted after the security values, 64 hex characters.

Compared in constant time against the consumer's current secret and, during a rotation's grace period, the
previous one. Then the timestamp window, ``expires`` and the consumer's allowed domains.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from assessments.dataapi import pgjson
from assessments.dataapi.errors import DataApiError
from assessments.models import Consumer
from assessments.secrets import SecretUnreadable
from assessments.services import consumer_valid_secrets
from rostering.common.jsonio import JSONInputError, decode

SECURITY_KEYS = ("consumer_key", "domain", "timestamp", "expires", "user_id")
CONSUMER_FIELDS = ("id", "district_id", "is_active", "secret_encrypted", "previous_secret_encrypted",
                   "previous_secret_expires_at", "allowed_domains")
SECURITY_MAX_BYTES = 4 * 1024
TIMESTAMP_FORMAT = "%Y%m%d-%H%M"
_TIMESTAMP_RE = re.compile(r"^\d{8}-\d{4}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


def timestamp_window() -> datetime.timedelta:
    minutes = settings.SCHOOL_SESSIONS.get("DATA_API_TIMESTAMP_WINDOW_MINUTES", 15)
    return datetime.timedelta(minutes=minutes)


@dataclass(frozen=True)
class Verified:
    consumer: Consumer
    security: dict


def pre_hash(security: dict, request_string: str | None, action: str | None, *, secret: str | None = None) -> str:
    values = [security[k] for k in SECURITY_KEYS if k in security]
    if secret is not None:  # legacy form: the secret sits between the security values and the request
        values.append(secret)
    if request_string is not None:
        values.append(request_string)
    if action is not None:
        values.append(action)
    return "_".join(values)


def sign(security: dict, secret: str, request_string: str | None, action: str | None) -> str:
    """The ``$02$`` signature (what the SDKs send); used by tests and the demo snippet."""
    digest = hmac.new(secret.encode(), pre_hash(security, request_string, action).encode(), hashlib.sha256).hexdigest()
    return "$02$" + digest


def sign_legacy(security: dict, secret: str, request_string: str | None, action: str | None) -> str:
    return hashlib.sha256(pre_hash(security, request_string, action, secret=secret).encode()).hexdigest()


def _signature_matches(signature: str, security: dict, secret: str, request_string, action) -> bool:
    if signature.startswith("$02$"):
        expected = sign(security, secret, request_string, action)
    else:
        expected = sign_legacy(security, secret, request_string, action)
    return hmac.compare_digest(signature.encode(), expected.encode())


def _parse_gmt(value: str, *, code: int, what: str) -> datetime.datetime:
    if not _TIMESTAMP_RE.match(value):
        raise DataApiError(code, f"{what} must be a GMT date of format YYYYMMDD-HHMM")
    try:
        return datetime.datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise DataApiError(code, f"{what} must be a GMT date of format YYYYMMDD-HHMM") from None


def parse_security(raw: str | None) -> dict:
    if raw is None or raw == "":
        raise DataApiError(41000, "the security form field is required")
    try:
        security = decode(raw, max_bytes=SECURITY_MAX_BYTES, max_depth=4, field="security")
    except JSONInputError as exc:
        raise DataApiError(20009, exc.message) from None
    if not isinstance(security, dict):
        raise DataApiError(20009, "security must be a JSON object")
    for key in ("consumer_key", "timestamp", "signature"):
        if key not in security:
            raise DataApiError(41000, f"security.{key} is required")
    for key in (*SECURITY_KEYS, "signature"):
        if key in security and not isinstance(security[key], str):
            raise DataApiError(20003, f"security.{key} must be a string")
    if len(security["consumer_key"]) != 16:
        raise DataApiError(41001, "security.consumer_key must be 16 characters")
    if len(security["timestamp"]) != 13:
        raise DataApiError(41001, "security.timestamp must be 13 characters (YYYYMMDD-HHMM)")
    signature = security["signature"]
    if not ((signature.startswith("$02$") and len(signature) == 68) or (len(signature) == 64 and _HEX_RE.match(signature))):
        raise DataApiError(41001, "security.signature must be 68 characters ($02$…) or 64 hexadecimal characters")
    return security


def _domain_allowed(domain: str | None, allowed: list[str]) -> bool:
    if not allowed:
        return True
    if not domain:
        return False
    domain = domain.strip().lower()
    for pattern in allowed:
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]) and len(domain) > len(pattern) - 1:
                return True
        elif domain == pattern:
            return True
    return False


def _consumer(key: str) -> Consumer | None:
    if connection.vendor == "postgresql":
        return pgjson.consumer_by_key(key)
    return Consumer.objects.filter(consumer_key=key).only(*CONSUMER_FIELDS).first()


def verify(*, security_raw: str | None, request_string: str | None, action: str | None) -> Verified:
    """The consumer that signed this request, or ``DataApiError`` (41000–41009, 20003, 20009)."""
    security = parse_security(security_raw)
    consumer = _consumer(security["consumer_key"])
    if consumer is None:
        raise DataApiError(41002)
    if not consumer.is_active:
        raise DataApiError(41009)
    now = timezone.now()
    try:
        secrets = consumer_valid_secrets(consumer, now=now)
    except SecretUnreadable:
        raise DataApiError(41008, "this consumer's secret must be rotated") from None
    signature = security["signature"]
    if not any(_signature_matches(signature, security, s, request_string, action) for s in secrets):
        raise DataApiError(41003)
    stamp = _parse_gmt(security["timestamp"], code=41004, what="security.timestamp")
    window = timestamp_window()
    # The SDKs stamp to the minute, so a request is up to a minute older than its stamp says.
    if stamp < now - window - datetime.timedelta(minutes=1) or stamp > now + window:
        raise DataApiError(41004, f"security.timestamp must be within {int(window.total_seconds() // 60)} minutes of now (UTC)")
    if "expires" in security:
        expires = _parse_gmt(security["expires"], code=41006, what="security.expires")
        if now >= expires + datetime.timedelta(minutes=1):
            raise DataApiError(41007)
    if not _domain_allowed(security.get("domain"), consumer.allowed_domains):
        raise DataApiError(41005, "security.domain is not one of this consumer's allowed domains")
    return Verified(consumer=consumer, security=security)
