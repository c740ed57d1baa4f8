"""GA4GH Passport visas for the alliance's entitlements, and the keys that sign them.

A visa (GA4GH Passport v1.2) is a JWT signed with RS256 whose ``ga4gh_visa_v1`` object says:
this data access committee (``by: "dac"``, ``source``) granted (``type:
"ControlledAccessGrants"``) this user (``sub``) access to this dataset (``value``: its IRI)
on that date (``asserted``). Its header names the key (``kid``) and where the keys are
published (``jku``: ``{BASE_URL}/.well-known/jwks.json``), so that a clearinghouse verifies it
without asking us anything else.

Keys (:class:`VisaSigningKey`): one signs at a time; :func:`rotate` makes a new one the
signer and keeps the previous one published for ``VISA_KEY_GRACE_DAYS`` (by default the
longest a visa lives, ``VISA_MAX_LIFETIME_DAYS``), so a visa signed before a rotation verifies
until it expires. Settings are read with defaults so they work before ``core.config`` names
them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import jwt
from flask import current_app
from sqlalchemy import or_, select

from core import audit
from core.db import get_session, utcnow
from core.errors import Forbidden
from core.policies import SYSTEM, Actor, SystemActor, is_admin
from governance.visas import keys
from governance.visas.models import ALGORITHM, VisaSigningKey

VISA_TYPE = "ControlledAccessGrants"
ASSERTED_BY = "dac"
JWKS_PATH = "/.well-known/jwks.json"
DEFAULT_MAX_LIFETIME_DAYS = 365
DEFAULT_KEY_BITS = keys.MIN_BITS
DEFAULT_JWKS_MAX_AGE_SECONDS = 300


# --- settings -------------------------------------------------------------------------------


def max_lifetime() -> dt.timedelta:
    return dt.timedelta(
        days=int(current_app.config.get("VISA_MAX_LIFETIME_DAYS", DEFAULT_MAX_LIFETIME_DAYS))
    )


def grace_period() -> dt.timedelta:
    """How long a retired key stays published: at least as long as a visa may live, or
    visas it signed would stop verifying before they expire."""
    days = current_app.config.get("VISA_KEY_GRACE_DAYS")
    return dt.timedelta(days=int(days)) if days is not None else max_lifetime()


def issuer() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def jwks_url() -> str:
    return issuer() + JWKS_PATH


def _secrets() -> list[str | bytes]:
    config = current_app.config
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


# --- keys -----------------------------------------------------------------------------------


def _create_key(now: dt.datetime) -> VisaSigningKey:
    private = keys.new_private_key(int(current_app.config.get("VISA_KEY_BITS", DEFAULT_KEY_BITS)))
    jwk = keys.public_jwk(private)
    key = VisaSigningKey(
        kid=keys.thumbprint(jwk),
        algorithm=ALGORITHM,
        public_jwk=jwk,
        private_key=keys.encrypt_private_key(private, _secrets()),
        created_at=now,
        activated_at=now,
    )
    get_session().add(key)
    return key


def _signing_keys() -> Sequence[VisaSigningKey]:
    return (
        get_session()
        .scalars(
            select(VisaSigningKey)
            .where(VisaSigningKey.retired_at.is_(None))
            .order_by(VisaSigningKey.activated_at.desc(), VisaSigningKey.kid)
        )
        .all()
    )


def current_key(now: dt.datetime | None = None) -> VisaSigningKey:
    """The key that signs now. The first one is made here, in the caller's transaction (the
    caller commits it with what it does), and recorded in the audit trail.

    Two first callers at the same moment may each make one: both are published and the newer
    signs, which verifiers cannot tell from a rotation; the next :func:`rotate` retires both.
    On SQLite, a reading (GET) request that may be the first must make it inside
    :func:`core.db.write_in_passing`, or deploy with ``harmony visas rotate-key``.
    """
    signing = _signing_keys()
    if signing:
        return signing[0]
    key = _create_key(now or utcnow())
    get_session().flush()
    audit.record(
        SYSTEM,  # the service itself, at its first visa: no one asked for a key
        "visa_key.created",
        "visa_signing_key",
        key.kid,
        after={"kid": key.kid, "algorithm": key.algorithm},
        summary=f"First visa signing key {key.kid} made",
    )
    return key


def _may_rotate(actor: Actor) -> bool:
    return isinstance(actor, SystemActor) or is_admin(actor)


def rotate(
    actor: Actor, *, reason: str | None = None, now: dt.datetime | None = None
) -> VisaSigningKey:
    """Make a new key the signer; every key that signed until now signs no more, loses its
    private half and stays published until ``now + grace_period()``. Commits.

    :raises Forbidden: unless ``actor`` is an administrator or the command line.
    """
    if not _may_rotate(actor):
        raise Forbidden("Only an administrator may rotate the visa signing key.")
    now = now or utcnow()
    session = get_session()
    retired = list(_signing_keys())
    removed_at = now + grace_period()
    for old in retired:
        old.retired_at = now
        old.removed_at = removed_at
        old.private_key = None
    key = _create_key(now)
    session.flush()
    audit.record(
        actor,
        "visa_key.rotated",
        "visa_signing_key",
        key.kid,
        before={"kid": [old.kid for old in retired]},
        after={"kid": key.kid},
        summary=(
            f"Visa signing key rotated to {key.kid}; "
            + (
                f"{', '.join(old.kid for old in retired)} published until {removed_at:%Y-%m-%d}"
                if retired
                else "no previous key"
            )
        ),
        context={"published_until": removed_at.isoformat()} if retired else None,
        reason=reason,
    )
    session.commit()
    return key


def published_keys(now: dt.datetime | None = None) -> list[VisaSigningKey]:
    """The keys a verifier may meet in a visa now: the signer and the retired keys still in
    their grace period, newest first."""
    now = now or utcnow()
    return list(
        get_session().scalars(
            select(VisaSigningKey)
            .where(or_(VisaSigningKey.removed_at.is_(None), VisaSigningKey.removed_at > now))
            .order_by(VisaSigningKey.activated_at.desc(), VisaSigningKey.kid)
        )
    )


def all_keys() -> list[VisaSigningKey]:
    """Every key ever made, newest first (``harmony visas keys``)."""
    return list(
        get_session().scalars(
            select(VisaSigningKey).order_by(VisaSigningKey.activated_at.desc(), VisaSigningKey.kid)
        )
    )


def jwk_of(key: VisaSigningKey) -> dict[str, str]:
    """The key as published: its public members and what a verifier needs to pick it."""
    return {
        "kty": key.public_jwk["kty"],
        "n": key.public_jwk["n"],
        "e": key.public_jwk["e"],
        "kid": key.kid,
        "alg": key.algorithm,
        "use": "sig",
    }


def jwks(now: dt.datetime | None = None) -> dict[str, list[dict[str, str]]]:
    """The RFC 7517 JWK Set served at ``/.well-known/jwks.json``."""
    return {"keys": [jwk_of(key) for key in published_keys(now)]}


# --- visas ----------------------------------------------------------------------------------


def _epoch(value: dt.datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return int(value.timestamp())  # rounds towards the past for times after 1970


def sign_visa(
    *,
    subject_user_id: str,
    dataset_iri: str,
    asserted: dt.datetime,
    expires: dt.datetime,
    source: str,
    key: VisaSigningKey | None = None,
) -> str:
    """A signed ``ControlledAccessGrants`` visa (GA4GH Passport v1.2) for one user and one
    dataset, as a JWS compact string. ``exp`` is the earlier of ``expires`` (never later: the
    second is rounded down) and now plus ``VISA_MAX_LIFETIME_DAYS``. ``source`` is the URL of
    the committee that granted access. The signing key is :func:`current_key` (made in the
    caller's transaction if there is none yet) unless ``key`` is given.

    :raises ValueError: for naive datetimes, or when the visa would already have expired.
    """
    key = key or current_key()
    return _sign(
        key,
        _private_key(key),
        subject_user_id=subject_user_id,
        dataset_iri=dataset_iri,
        asserted=asserted,
        expires=expires,
        source=source,
    )


def _private_key(key: VisaSigningKey) -> Any:
    if key.private_key is None:
        raise ValueError(f"key {key.kid} is retired: it signs no more")
    return keys.decrypt_private_key(key.private_key, _secrets())


def _sign(
    key: VisaSigningKey,
    private: Any,
    *,
    subject_user_id: str,
    dataset_iri: str,
    asserted: dt.datetime,
    expires: dt.datetime,
    source: str,
) -> str:
    iat = int(utcnow().timestamp())
    exp = min(_epoch(expires, "expires"), iat + int(max_lifetime().total_seconds()))
    asserted_at = _epoch(asserted, "asserted")
    if exp <= iat:
        raise ValueError("the visa would already have expired")
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": subject_user_id,
        "iat": iat,
        "exp": exp,
        "jti": uuid.uuid4().hex,
        "ga4gh_visa_v1": {
            "type": VISA_TYPE,
            "asserted": asserted_at,
            "value": dataset_iri,
            "source": source,
            "by": ASSERTED_BY,
        },
    }
    headers = {"kid": key.kid, "typ": "JWT", "jku": jwks_url()}
    return jwt.encode(claims, private, algorithm=key.algorithm, headers=headers)


def verify_visa(token: str, *, jwk_set: dict[str, Any] | None = None) -> dict[str, Any]:
    """The claims of a visa this service signed, after PyJWT has checked its signature against
    the published keys (``jwk_set``: a JWKS as fetched from ``/.well-known/jwks.json``;
    default: :func:`jwks`), its issuer, expiry and issue time, and that it is a
    ``ControlledAccessGrants`` visa asserted by a DAC.

    :raises jwt.InvalidTokenError: (or a subclass) for anything that does not verify,
        including a ``kid`` that is not published (any more).
    """
    header = jwt.get_unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise jwt.InvalidAlgorithmError(f"visas are signed with {ALGORITHM}")
    key_set = jwt.PyJWKSet.from_dict(jwk_set if jwk_set is not None else jwks())
    kid = header.get("kid")
    matching = [k for k in key_set.keys if k.key_id == kid]
    if not matching:
        raise jwt.InvalidKeyError(f"no published key {kid!r}")
    claims: dict[str, Any] = jwt.decode(
        token,
        matching[0],
        algorithms=[ALGORITHM],
        issuer=issuer(),
        options={"require": ["iss", "sub", "iat", "exp", "jti"]},
    )
    visa = claims.get("ga4gh_visa_v1")
    if (
        not isinstance(visa, dict)
        or visa.get("type") != VISA_TYPE
        or visa.get("by") != ASSERTED_BY
        or not all(visa.get(name) for name in ("asserted", "value", "source"))
    ):
        raise jwt.InvalidTokenError("not a ControlledAccessGrants visa asserted by a DAC")
    return claims


class Grant(NamedTuple):
    """What a visa says about one entitlement: whose (``user_id``), which dataset (``dataset_id``
    and the IRI the visa names), from when until when, and the committee's URL (``source``).
    ``asserted`` (when the committee decided) defaults to ``starts_at``."""

    user_id: str
    dataset_id: str
    dataset_iri: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    source: str
    asserted: dt.datetime | None = None


def visas_for(
    entitlements: Iterable[Grant | tuple[Any, ...]], *, now: dt.datetime | None = None
) -> list[str]:
    """One visa per entitlement active now (started, not yet ended), in the order given;
    the others are left out. Signs with one key, loaded once. Plain tuples in
    :class:`Grant`'s order are accepted."""
    now = now or utcnow()
    active = [
        grant
        for grant in (Grant(*item) for item in entitlements)
        if grant.starts_at <= now < grant.ends_at
    ]
    if not active:
        return []
    key = current_key()
    private = _private_key(key)
    return [
        _sign(
            key,
            private,
            subject_user_id=grant.user_id,
            dataset_iri=grant.dataset_iri,
            asserted=grant.asserted or grant.starts_at,
            expires=grant.ends_at,
            source=grant.source,
        )
        for grant in active
    ]
