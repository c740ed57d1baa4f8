"""``/.well-known/jwks.json``: the public keys that verify the visas, for anyone.

Public and cacheable for a few minutes (``VISA_JWKS_MAX_AGE_SECONDS``, default 300): a
verifier that meets an unknown ``kid`` fetches again, and a rotated-out key stays published for
the whole grace period, so a short cache costs nothing and a long one would only delay new keys.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, request

from governance.visas import services

bp = Blueprint("visas", __name__)


@bp.get(services.JWKS_PATH)
def jwks() -> Response:
    body = json.dumps(services.jwks(), sort_keys=True, separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    max_age = int(
        current_app.config.get("VISA_JWKS_MAX_AGE_SECONDS", services.DEFAULT_JWKS_MAX_AGE_SECONDS)
    )
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public keys, read by any verifier
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest())
    response.make_conditional(request)  # 304 for a verifier that has this set already
    return response
