"""Configuration from environment variables.

Every setting has an environment variable of the same name (documented in the README). The
production profile refuses to start without a real secret key, because a guessable key lets anyone
forge session cookies.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "production", "testing")
DEFAULT_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret", "default"}


class ConfigError(RuntimeError):
    """The environment describes a configuration the service must not run with."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first by default), case-blind."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _development_secret(instance_path: Path) -> str:
    """A random key kept under instance/, so development sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


#: host names that mean "every interface" to a server: no client can use them as an address
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]", "*"}  # noqa: S104 - recognised, never bound


def default_base_url(env: dict[str, str] | None = None) -> str:
    """The public address when ``BASE_URL`` is not set: where ``make run`` (and the Procfile's
    gunicorn) serves, ``http://{HOST}:{PORT}`` (127.0.0.1:8000 by default), so that the RDF
    IRIs point at the server that answers them. A wildcard ``HOST`` (0.0.0.0, ::) names no
    reachable address, so the IRIs use 127.0.0.1 then; behind a proxy or on a public name,
    set ``BASE_URL``.

    :raises ConfigError: for a ``PORT`` that is not a port number.
    """
    env = dict(os.environ if env is None else env)
    port = _int(env, "PORT", 8000)
    if not 0 < port < 65536:
        raise ConfigError(f"PORT must be a port number from 1 to 65535, not {port}")
    host = (env.get("HOST") or "127.0.0.1").strip()
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port}"


def load_config(instance_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration mapping from ``env`` (default: ``os.environ``).

    :raises ConfigError: for an unknown ``HARMONY_ENV``, a malformed number, or a production
        profile without a proper ``SECRET_KEY``.
    """
    env = dict(os.environ if env is None else env)
    harmony_env = env.get("HARMONY_ENV", "development").strip().lower()
    if harmony_env not in ENVIRONMENTS:
        raise ConfigError(
            f"HARMONY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {harmony_env!r}"
        )
    production = harmony_env == "production"

    secret_key = env.get("SECRET_KEY", "")
    if production:
        if secret_key.strip().lower() in DEFAULT_SECRET_KEYS or len(secret_key) < 32:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    elif not secret_key:
        secret_key = (
            "testing-secret-key-not-for-production"
            if harmony_env == "testing"
            else _development_secret(instance_path)
        )

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'harmony.sqlite3'}"
    trusted = [h.strip() for h in env.get("TRUSTED_HOSTS", "").split(",") if h.strip()]
    if production and not trusted:
        raise ConfigError(
            "TRUSTED_HOSTS must name the host names this service answers to in production "
            "(comma-separated, e.g. catalogue.harmony-alliance.eu)"
        )

    base_url = (env.get("BASE_URL") or "").strip().rstrip("/")
    if production and not base_url.startswith("https://"):
        raise ConfigError(
            "BASE_URL must be the public https:// address of the catalogue in production "
            "(its RDF IRIs are built from it, so it must not change)"
        )

    idle_minutes = _int(env, "SESSION_IDLE_MINUTES", 120)
    absolute_hours = _int(env, "SESSION_ABSOLUTE_HOURS", 12)
    return {
        "HARMONY_ENV": harmony_env,
        "TESTING": harmony_env == "testing",
        "DEBUG": False,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "SQL_ECHO": _bool(env, "SQL_ECHO", False),
        "TRUSTED_HOSTS": trusted or None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SERVER_NAME": env.get("SERVER_NAME") or None,
        # Request size: JSON and forms are small; dictionary and ontology uploads are larger.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_UPLOAD_MB", 50) * 1024 * 1024,
        "MAX_JSON_BYTES": _int(env, "MAX_JSON_KB", 1024) * 1024,
        # Uploaded tables (core.files): what a file may unfold into once it is read.
        "UPLOAD_MAX_ROWS": _int(env, "UPLOAD_MAX_ROWS", 1_000_000),
        "UPLOAD_MAX_COLUMNS": _int(env, "UPLOAD_MAX_COLUMNS", 500),
        "UPLOAD_MAX_CELL_CHARS": _int(env, "UPLOAD_MAX_CELL_CHARS", 1_000_000),
        "XLSX_MAX_UNCOMPRESSED_MB": _int(env, "XLSX_MAX_UNCOMPRESSED_MB", 512),
        "XLSX_MAX_RATIO": _int(env, "XLSX_MAX_RATIO", 100),
        # Sessions: signed cookie that only points to a server-side, revocable session record.
        "SESSION_COOKIE_NAME": "harmony_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or _bool(env, "SESSION_COOKIE_SECURE", False),
        "SESSION_IDLE_MINUTES": idle_minutes,
        "SESSION_ABSOLUTE_HOURS": absolute_hours,
        "PERMANENT_SESSION_LIFETIME": absolute_hours * 3600,
        "REMEMBER_COOKIE_DURATION": 0,
        # CSRF: checked by core.security for every cookie-authenticated unsafe request.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": absolute_hours * 3600,
        "WTF_CSRF_SSL_STRICT": production,
        # Password-guessing throttle (core.throttle): counters in the database, per account
        # from one address and per address; after the free failures each failure doubles the
        # wait, from the first delay up to the longest.
        "LOGIN_FREE_FAILURES": _int(env, "LOGIN_FREE_FAILURES", 5),
        "LOGIN_FREE_FAILURES_PER_ADDRESS": _int(env, "LOGIN_FREE_FAILURES_PER_ADDRESS", 30),
        "LOGIN_FIRST_DELAY_SECONDS": _int(env, "LOGIN_FIRST_DELAY_SECONDS", 30),
        "LOGIN_MAX_DELAY_SECONDS": _int(env, "LOGIN_MAX_DELAY_SECONDS", 900),
        "LOGIN_FAILURES_KEPT_HOURS": _int(env, "LOGIN_FAILURES_KEPT_HOURS", 24),
        # Passwords: Argon2id; tests lower the cost so the suite stays fast.
        "ARGON2_TIME_COST": _int(env, "ARGON2_TIME_COST", 1 if harmony_env == "testing" else 3),
        "ARGON2_MEMORY_KIB": _int(
            env, "ARGON2_MEMORY_KIB", 8 if harmony_env == "testing" else 65536
        ),
        "API_TOKEN_DEFAULT_DAYS": _int(env, "API_TOKEN_DEFAULT_DAYS", 90),
        "API_TOKEN_MAX_DAYS": _int(env, "API_TOKEN_MAX_DAYS", 366),
        # Mail (the notification outbox sends through it; unset host = mails are only logged).
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env, "MAIL_PORT", 587),
        "MAIL_USE_TLS": _bool(env, "MAIL_USE_TLS", True),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "HARMONY Catalogue <no-reply@localhost>"),
        # Data-sharing agreements (governance.agreements): the signed PDFs live outside the
        # database, named by their SHA-256.
        "AGREEMENT_DOCUMENTS_DIR": env.get("AGREEMENT_DOCUMENTS_DIR")
        or str(instance_path / "agreements"),
        "AGREEMENT_DOCUMENT_MAX_BYTES": _int(env, "AGREEMENT_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024),
        "AGREEMENT_COUNTERPARTY": env.get("AGREEMENT_COUNTERPARTY", "HARMONY Alliance"),
        # Access requests: who may apply ("any" researcher, or only members of
        # "contributing_organisations", the custodians of a published dataset).
        "ACCESS_ELIGIBILITY": env.get("ACCESS_ELIGIBILITY", "any"),
        # Access with no other limit (requested months, agreement expiry, DUO TS) lasts this long.
        "ENTITLEMENT_DEFAULT_MONTHS": _int(env, "ENTITLEMENT_DEFAULT_MONTHS", 12),
        # The committee's deadline shown on review pages (EHDS, Regulation (EU) 2025/327,
        # Art. 68: three months from a complete application, extendable by three).
        "REVIEW_DECISION_DEADLINE_DAYS": _int(env, "REVIEW_DECISION_DEADLINE_DAYS", 90),
        "REVIEW_DECISION_EXTENSION_DAYS": _int(env, "REVIEW_DECISION_EXTENSION_DAYS", 90),
        # GA4GH Passport visas (governance.visas): the longest a visa lives, how long a
        # retired signing key stays published (visas it signed still verify), the key size,
        # and how long clients may cache /.well-known/jwks.json.
        "VISA_MAX_LIFETIME_DAYS": _int(env, "VISA_MAX_LIFETIME_DAYS", 365),
        "VISA_KEY_GRACE_DAYS": _int(
            env, "VISA_KEY_GRACE_DAYS", _int(env, "VISA_MAX_LIFETIME_DAYS", 365)
        ),
        "VISA_KEY_BITS": _int(env, "VISA_KEY_BITS", 2048),
        "VISA_JWKS_MAX_AGE_SECONDS": _int(env, "VISA_JWKS_MAX_AGE_SECONDS", 300),
        # Public address: the base of every RDF IRI (DCAT-AP, FAIR Data Point, CSVW, SSSOM);
        # unset, where HOST and PORT serve.
        "BASE_URL": base_url or default_base_url(env),
        # Counts the catalogue computes (not those a custodian declares) below this are shown
        # as "<N" to everyone but administrators.
        "SMALL_CELL_THRESHOLD": _int(env, "SMALL_CELL_THRESHOLD", 10),
        "ALLIANCE_GOAL_PATIENTS": _int(env, "ALLIANCE_GOAL_PATIENTS", 100_000),
        # Search, statistics and export queries are cut off after this long (503, not a hung
        # worker).
        "QUERY_TIMEOUT_MS": _int(env, "QUERY_TIMEOUT_MS", 5000),
        # Search engine (catalogue.search.engine): "embedded" (tantivy, files under
        # SEARCH_ENGINE_PATH, default instance/search-engine), "sql" (the database's full-text
        # statement alone) or "opensearch" (OPENSEARCH_* settings). The database stays the
        # source of truth: the engine is kept in step after each commit, checked every
        # SEARCH_ENGINE_SYNC_SECONDS, and rebuilt when lost. SEARCH_ENGINE_CHECK (on in tests)
        # runs every search on the engine and in SQL and fails it when they disagree.
        "SEARCH_ENGINE": _choice(env, "SEARCH_ENGINE", ("embedded", "sql", "opensearch")),
        "SEARCH_ENGINE_PATH": env.get("SEARCH_ENGINE_PATH") or None,
        "SEARCH_ENGINE_SYNC_SECONDS": _int(env, "SEARCH_ENGINE_SYNC_SECONDS", 5),
        "SEARCH_ENGINE_CHECK": _bool(env, "SEARCH_ENGINE_CHECK", harmony_env == "testing"),
        # Whether the engine counts the facets in a thread of its own while the page is
        # filled in from the database: "auto" (yes, unless PostgreSQL runs on this machine,
        # whose server then wants that core for the page's statements), "on" or "off".
        "SEARCH_ENGINE_COUNTS_BESIDE": _choice(
            env, "SEARCH_ENGINE_COUNTS_BESIDE", ("auto", "on", "off")
        ),
        # Background jobs (core.jobs): the queue (a SQLite file under instance/ unless JOBS_URL
        # names Redis), run in the calling thread in tests; uploads larger than this many KB
        # are imported by a job (202 Accepted), smaller ones in the request.
        "JOBS_URL": env.get("JOBS_URL") or env.get("REDIS_URL") or "",
        "JOBS_IMMEDIATE": _bool(env, "JOBS_IMMEDIATE", harmony_env == "testing"),
        "JOBS_INLINE_MAX_KB": _int(env, "JOBS_INLINE_MAX_KB", 1024),
        "JOBS_TIDY_MINUTES": _int(env, "JOBS_TIDY_MINUTES", 10),
        "JOBS_STALE_MINUTES": _int(env, "JOBS_STALE_MINUTES", 360),
        "JOBS_KEEP_DAYS": _int(env, "JOBS_KEEP_DAYS", 7),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "HSTS_SECONDS": _int(env, "HSTS_SECONDS", 31536000),
        # OpenAPI (flask-smorest)
        "API_TITLE": "HARMONY Catalogue API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
