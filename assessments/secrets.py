"""Consumer secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived
from ``SECRET_KEY`` by HKDF-SHA256. HMAC signatures need the secret itself, so it cannot be hashed; a database
dump without ``SECRET_KEY`` reveals nothing. Changing ``SECRET_KEY`` makes stored secrets unreadable: rotate
every consumer afterwards (``manage.py create_data_api_consumer`` makes new ones).
"""

from __future__ import annotations

import base64
import functools
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 16
SECRET_BYTES = 20  # 40 hex characters, like Learnosity's own secrets


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with this SECRET_KEY."""


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"school-sessions", info=b"data-api-consumer-secret").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(secret.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("This consumer's secret was stored under another SECRET_KEY.") from exc


def new_consumer_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)
