"""Visas as a GA4GH Passport clearinghouse sees them: signed ``ControlledAccessGrants`` JWTs
that verify with PyJWT against the keys published at ``/.well-known/jwks.json``, through key
rotations, with the signing keys kept encrypted at rest."""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from sqlalchemy import select, text

from core.audit import AuditEvent
from core.db import get_session, utcnow
from core.errors import Forbidden
from core.models import Role
from core.policies import SYSTEM
from governance.visas import keys, services
from governance.visas.models import VisaSigningKey

USER = "u-123"
DATASET = "http://127.0.0.1:8000/datasets/DS-AML-1"
DAC = "http://127.0.0.1:8000/committees/aml-dac"
JWKS = "/.well-known/jwks.json"
DAY = dt.timedelta(days=1)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def sign(app, **overrides):
    """A visa, committed (with the first key when there was none)."""
    now = utcnow()
    args = {
        "subject_user_id": USER,
        "dataset_iri": DATASET,
        "asserted": now - 10 * DAY,
        "expires": now + 30 * DAY,
        "source": DAC,
    } | overrides
    with app.app_context():
        token = services.sign_visa(**args)
        get_session().commit()
    return token


def published(client):
    response = client.get(JWKS)
    assert response.status_code == 200
    return response.get_json()


def decode(token, jwk_set, app):
    """What a clearinghouse does: the key named by ``kid`` from the JWKS, then PyJWT."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwk_set).keys if k.key_id == kid)
    return jwt.decode(token, key, algorithms=["RS256"], issuer=app.config["BASE_URL"])


def test_a_visa_verifies_with_pyjwt_against_the_published_keys(visas_app, vclient):
    asserted = dt.datetime(2026, 11, 2, 9, 30, 15, tzinfo=dt.UTC)
    expires = utcnow().replace(microsecond=0) + 30 * DAY
    before = int(utcnow().timestamp())
    token = sign(visas_app, asserted=asserted, expires=expires)
    after = int(utcnow().timestamp())

    claims = decode(token, published(vclient), visas_app)

    header = jwt.get_unverified_header(token)
    assert header == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": header["kid"],
        "jku": visas_app.config["BASE_URL"] + JWKS,
    }
    assert set(claims) == {"iss", "sub", "iat", "exp", "jti", "ga4gh_visa_v1"}
    assert claims["iss"] == visas_app.config["BASE_URL"]
    assert claims["sub"] == USER
    assert before <= claims["iat"] <= after
    assert claims["exp"] == int(expires.timestamp())
    assert claims["ga4gh_visa_v1"] == {
        "type": "ControlledAccessGrants",
        "asserted": int(asserted.timestamp()),
        "value": DATASET,
        "source": DAC,
        "by": "dac",
    }
    with visas_app.app_context():
        assert services.verify_visa(token) == claims


def test_each_visa_has_its_own_token_identifier(visas_app):
    assert (
        jwt.decode(sign(visas_app), options={"verify_signature": False})["jti"]
        != jwt.decode(sign(visas_app), options={"verify_signature": False})["jti"]
    )


@pytest.mark.parametrize(
    "ends_in",
    [
        dt.timedelta(hours=2, microseconds=999_999),  # a fraction of a second is rounded down
        dt.timedelta(days=364, seconds=59),
        dt.timedelta(days=365 * 3),  # beyond the longest a visa lives: cut to that
    ],
)
def test_a_visa_never_outlives_its_entitlement_nor_the_longest_lifetime(visas_app, ends_in):
    expires = utcnow() + ends_in
    claims = jwt.decode(sign(visas_app, expires=expires), options={"verify_signature": False})
    assert claims["exp"] <= expires.timestamp()
    assert claims["exp"] <= claims["iat"] + 365 * 86400
    assert claims["exp"] == min(int(expires.timestamp()), claims["iat"] + 365 * 86400)


def test_the_longest_lifetime_is_a_setting(visas_app, monkeypatch):
    monkeypatch.setitem(visas_app.config, "VISA_MAX_LIFETIME_DAYS", 7)
    claims = jwt.decode(sign(visas_app), options={"verify_signature": False})
    assert claims["exp"] == claims["iat"] + 7 * 86400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expires", lambda now: now - DAY, "already have expired"),
        ("expires", lambda now: now.replace(tzinfo=None) + DAY, "timezone-aware"),
        ("asserted", lambda now: now.replace(tzinfo=None), "timezone-aware"),
    ],
)
def test_no_visa_for_an_ended_entitlement_or_an_ambiguous_time(visas_app, field, value, message):
    with pytest.raises(ValueError, match=message):
        sign(visas_app, **{field: value(utcnow())})


def test_the_jwks_is_public_cacheable_and_holds_no_private_part(visas_app, vclient):
    assert published(vclient) == {"keys": []}  # before the first visa: nothing to verify
    sign(visas_app)
    response = vclient.get(JWKS)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    (key,) = response.get_json()["keys"]
    assert set(key) == {"kid", "kty", "n", "e", "alg", "use"}
    assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert not PRIVATE_MEMBERS & set(key)
    assert key["kid"] == keys.thumbprint(key)  # RFC 7638: the name is the key's fingerprint
    again = vclient.get(JWKS, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_private_key_is_encrypted_at_rest(visas_app):
    sign(visas_app)
    with visas_app.app_context():
        (stored,) = get_session().execute(text("SELECT private_key FROM visa_signing_keys")).one()
        assert "PRIVATE KEY" not in stored and "MII" not in stored
        with pytest.raises(keys.KeyUnreadable):
            keys.decrypt_private_key(stored, ["another secret"])
        # the previous secret, kept as a fallback after SECRET_KEY changed, still opens it
        secret = visas_app.config["SECRET_KEY"]
        assert keys.decrypt_private_key(stored, ["new secret", secret]).key_size == 2048


def test_a_changed_secret_without_fallback_is_named_not_a_crash(visas_app, monkeypatch):
    sign(visas_app)
    monkeypatch.setitem(visas_app.config, "SECRET_KEY", "a completely different secret")
    with pytest.raises(keys.KeyUnreadable, match="SECRET_KEY_FALLBACKS"):
        sign(visas_app)
    monkeypatch.setitem(
        visas_app.config, "SECRET_KEY_FALLBACKS", ["testing-secret-key-not-for-production"]
    )
    assert sign(visas_app)


def test_the_first_key_is_made_once_and_recorded(visas_app):
    with visas_app.app_context():
        first = services.current_key()
        assert services.current_key().kid == first.kid
        get_session().commit()
        events = (
            get_session()
            .scalars(select(AuditEvent).where(AuditEvent.action == "visa_key.created"))
            .all()
        )
        assert [e.object_id for e in events] == [first.kid]


def test_rotation_keeps_old_visas_verifying_until_the_grace_period_ends(visas_app, vclient):
    old_visa = sign(visas_app)
    old_kid = jwt.get_unverified_header(old_visa)["kid"]
    with visas_app.app_context():
        new_kid = services.rotate(SYSTEM, reason="yearly rotation").kid
    assert new_kid != old_kid

    new_visa = sign(visas_app)
    assert jwt.get_unverified_header(new_visa)["kid"] == new_kid
    jwk_set = published(vclient)
    assert [k["kid"] for k in jwk_set["keys"]] == [new_kid, old_kid]
    assert decode(old_visa, jwk_set, visas_app)["sub"] == USER
    assert decode(new_visa, jwk_set, visas_app)["sub"] == USER

    with visas_app.app_context():
        old = get_session().get(VisaSigningKey, old_kid)
        assert old.private_key is None  # a retired key never signs again
        grace = dt.timedelta(days=365)
        assert old.removed_at == old.retired_at + grace
        just_before = old.removed_at - dt.timedelta(seconds=1)
        assert [k.kid for k in services.published_keys(just_before)] == [new_kid, old_kid]
        assert [k.kid for k in services.published_keys(old.removed_at)] == [new_kid]
        assert old.state(old.removed_at) == "removed"


def test_after_the_grace_period_the_old_key_leaves_the_jwks(visas_app, vclient, monkeypatch):
    monkeypatch.setitem(visas_app.config, "VISA_KEY_GRACE_DAYS", 30)
    old_visa = sign(visas_app)
    old_kid = jwt.get_unverified_header(old_visa)["kid"]
    with visas_app.app_context():
        # a rotation 31 days ago: its grace of 30 days is over
        new_kid = services.rotate(SYSTEM, now=utcnow() - 31 * DAY).kid
    jwk_set = published(vclient)
    assert [k["kid"] for k in jwk_set["keys"]] == [new_kid]
    assert old_kid != new_kid
    with visas_app.app_context(), pytest.raises(jwt.InvalidKeyError):
        services.verify_visa(old_visa)


def test_rotation_is_recorded_with_its_reason(visas_app):
    old_kid = jwt.get_unverified_header(sign(visas_app))["kid"]
    with visas_app.app_context():
        new_kid = services.rotate(SYSTEM, reason="suspected leak").kid
        event = (
            get_session()
            .scalars(select(AuditEvent).where(AuditEvent.action == "visa_key.rotated"))
            .one()
        )
        assert (event.object_id, event.reason) == (new_kid, "suspected leak")
        assert event.before == {"kid": [old_kid]} and event.after == {"kid": new_kid}


def test_only_an_administrator_may_rotate(visas_app, vmake):
    researcher = vmake.user(Role.RESEARCHER)
    admin = vmake.user(Role.ADMIN)
    with visas_app.app_context():
        session = get_session()
        with pytest.raises(Forbidden):
            services.rotate(session.merge(researcher))
        assert services.all_keys() == []
        assert services.rotate(session.merge(admin)).kid


def test_a_tampered_or_foreign_visa_does_not_verify(visas_app, rsa_pool):
    token = sign(visas_app)
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["ga4gh_visa_v1"]["value"] = "http://127.0.0.1:8000/datasets/OTHER"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with visas_app.app_context():
        with pytest.raises(jwt.InvalidSignatureError):
            services.verify_visa(f"{header}.{forged_payload}.{signature}")
        kid = jwt.get_unverified_header(token)["kid"]
        stranger = next(k for k in rsa_pool if keys.thumbprint(keys.public_jwk(k)) != kid)
        foreign = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid})
        with pytest.raises(jwt.InvalidSignatureError):
            services.verify_visa(foreign)


def test_visas_for_signs_the_active_entitlements_in_order(visas_app):
    now = utcnow()
    other = "http://127.0.0.1:8000/datasets/DS-MM-2"
    entitlements = [
        ("u-1", "d-1", DATASET, now - 5 * DAY, now + 40 * DAY, DAC),
        ("u-1", "d-2", other, now - 90 * DAY, now - DAY, DAC),  # ended
        ("u-1", "d-3", other, now + DAY, now + 90 * DAY, DAC),  # not started
        services.Grant("u-1", "d-4", other, now - DAY, now + DAY, DAC, asserted=now - 3 * DAY),
    ]
    with visas_app.app_context():
        tokens = services.visas_for(entitlements)
        get_session().commit()
        claims = [services.verify_visa(t) for t in tokens]
    assert [(c["ga4gh_visa_v1"]["value"], c["exp"]) for c in claims] == [
        (DATASET, int((now + 40 * DAY).timestamp())),
        (other, int((now + DAY).timestamp())),
    ]
    assert claims[0]["ga4gh_visa_v1"]["asserted"] == int((now - 5 * DAY).timestamp())
    assert claims[1]["ga4gh_visa_v1"]["asserted"] == int((now - 3 * DAY).timestamp())
    with visas_app.app_context():
        assert services.visas_for([]) == []
        assert services.all_keys() != []


def test_the_commands_rotate_and_list_the_keys(visas_app):
    cli = visas_app.test_cli_runner()
    first = cli.invoke(args=["visas", "keys"])
    assert first.exit_code == 0 and "no visa signing key yet" in first.output
    rotated = [cli.invoke(args=["visas", "rotate-key", "--reason", "deploy"]) for _ in range(2)]
    assert all(r.exit_code == 0 for r in rotated), [r.output for r in rotated]
    old, new = (r.output.split()[-1] for r in rotated)
    listing = cli.invoke(args=["visas", "keys"]).output.splitlines()
    assert listing[1].split()[:2] == [new, "signing"]
    assert listing[2].split()[:2] == [old, "published"]
