"""AES-256-GCM sealing of small secrets (TOTP keys), with key rotation.

Keys come from MFA_ENCRYPTION_KEY (the last one, which seals) and
MFA_ENCRYPTION_KEY_FALLBACKS (older ones, which still open), as in
``Settings.mfa_encryption_keys``. ``context`` is bound into each box as
associated data, so a sealed value copied to another document or another
purpose does not open there.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SealBroken(Exception):
    """A sealed value did not open with any key (tampered, or a key is gone)."""


class SecretBox:
    def __init__(self, keys: tuple[bytes, ...]):
        if not keys:
            raise ValueError("at least one key is needed")
        # Newest first: the current key opens almost everything.
        self._ciphers = [AESGCM(key) for key in reversed(keys)]

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._ciphers[0].encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, ciphertext, context.encode())
            except InvalidTag:
                continue
        raise SealBroken("no key opens this value")
