"""Tokens at rest: Fernet under TOKEN_ENCRYPTION_KEYS (the first key encrypts, all decrypt)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must be comma separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(ciphertext: str) -> str:
    """The plaintext; raises `InvalidToken` when no configured key opens it."""
    return cipher().decrypt(ciphertext.encode()).decode() if ciphertext else ""


def reencrypt(ciphertext: str) -> str:
    """Ciphertext under the first (newest) key, for key rotation."""
    return cipher().rotate(ciphertext.encode()).decode() if ciphertext else ""


__all__ = ["InvalidToken", "decrypt", "encrypt", "reencrypt"]
