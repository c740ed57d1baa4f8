"""RSA keys for the visas: generation, the public JWK and its thumbprint, and the private
key's encryption at rest.

Why Fernet with a key derived from ``SECRET_KEY`` by HKDF, and not a password-based PKCS #8
encryption (``BestAvailableEncryption``): ``SECRET_KEY`` is already a long random secret (the
production profile refuses fewer than 32 characters), so the deliberately slow password KDF of
PKCS #8 would add cost to every signing and no strength. HKDF-SHA256 with its own ``info``
label gives this use a key of its own, unrelated to the one that signs session cookies; Fernet
(AES-128-CBC with HMAC-SHA256) is authenticated, so a key edited in the database is refused
instead of loaded. The database alone (a dump, a backup, a read replica) therefore does not
give away a signing key: that needs the application's secret as well.

What can go wrong: a new ``SECRET_KEY`` makes the stored private keys unreadable. Keep the old
value in ``SECRET_KEY_FALLBACKS`` (Flask's own setting; the keys decrypt with any of them) and
run ``harmony visas rotate-key``: the new key is encrypted under the new secret, and the old
one needs no private half any more.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_BITS = 2048
PUBLIC_EXPONENT = 65537
HKDF_INFO = b"harmony visa signing keys v1"
HKDF_SALT = b"harmony-catalogue"


class KeyUnreadable(RuntimeError):
    """A stored private key does not decrypt with ``SECRET_KEY`` nor its fallbacks."""


def new_private_key(bits: int = MIN_BITS) -> rsa.RSAPrivateKey:
    """A fresh RSA key (50 to 100 ms for 2048 bits).

    :raises ValueError: for fewer than 2048 bits (too weak for RS256 by NIST's count).
    """
    if bits < MIN_BITS:
        raise ValueError(f"an RS256 key has at least {MIN_BITS} bits, not {bits}")
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> dict[str, str]:
    """The public half as an RFC 7517 JWK: only ``kty``, ``n`` and ``e`` (never d, p, q …)."""
    numbers = (
        key.public_key().public_numbers()
        if isinstance(key, rsa.RSAPrivateKey)
        else (key.public_numbers())
    )
    return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url without padding) of an RSA JWK: its required
    members ``e``, ``kty``, ``n`` as JSON with sorted keys and no whitespace."""
    required = {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _fernet_key(secret: str | bytes) -> bytes:
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        material
    )
    return base64.urlsafe_b64encode(derived)


def _cipher(secrets: Iterable[str | bytes]) -> MultiFernet:
    keys = [Fernet(_fernet_key(s)) for s in secrets if s]
    if not keys:
        raise KeyUnreadable("no SECRET_KEY to encrypt the visa signing keys with")
    return MultiFernet(keys)


def encrypt_private_key(key: rsa.RSAPrivateKey, secrets: Iterable[str | bytes]) -> str:
    """The key as a Fernet token (ASCII) of its PKCS #8 PEM, under the first of ``secrets``."""
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return _cipher(secrets).encrypt(pem).decode("ascii")


def decrypt_private_key(token: str, secrets: Iterable[str | bytes]) -> rsa.RSAPrivateKey:
    """The key back from :func:`encrypt_private_key`, with any of ``secrets``.

    :raises KeyUnreadable: when none of them opens it (``SECRET_KEY`` changed without the old
        one in ``SECRET_KEY_FALLBACKS``, or the stored value was altered).
    """
    try:
        pem = _cipher(secrets).decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise KeyUnreadable(
            "the visa signing key does not decrypt with SECRET_KEY (or SECRET_KEY_FALLBACKS); "
            "put the previous secret in SECRET_KEY_FALLBACKS or run 'harmony visas rotate-key'"
        ) from exc
    # Fernet authenticated the bytes we wrote ourselves from a generated key, so the slow
    # RSA consistency check that guards against hostile key files is not needed here.
    key = serialization.load_pem_private_key(
        pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - we only ever store RSA
        raise KeyUnreadable("the stored visa signing key is not an RSA key")
    return key
