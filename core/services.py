"""Account use cases: organisations, users, roles, committees, logins, sessions and API tokens.

Each public function is one use case: it checks the policy, applies the rule, commits once. The
actor is passed explicitly (``None`` for an anonymous caller, ``SYSTEM`` for the command line).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core import audit, throttle
from core.db import get_session, transactional, utcnow, write_in_passing
from core.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from core.models import (
    ROLE_LABELS,
    ApiToken,
    DataAccessCommittee,
    Organisation,
    OrganisationKind,
    Role,
    RoleGrant,
    User,
    UserSession,
    casefold_key,
)
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require, require_login

TOKEN_PREFIX = "hmy_"  # noqa: S105 - a public marker, not a secret
LOGIN_FAILED = "The email address or password is incorrect."
MIN_PASSWORD_LENGTH = 12


# --- passwords ------------------------------------------------------------------------------


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=current_app.config["ARGON2_TIME_COST"],
        memory_cost=current_app.config["ARGON2_MEMORY_KIB"],
        parallelism=1,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_problems(password: str, email: str | None = None) -> list[str]:
    """What is wrong with a new password, in words a user understands (empty when fine)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        problems.append("Use at most 1024 characters.")
    if email:
        lowered = password.strip().lower()
        local = email.split("@")[0].lower()
        if lowered == email.lower() or (len(local) >= 4 and lowered == local):
            problems.append("Do not use your email address as your password.")
    if password and len(set(password)) < 4:
        problems.append("Use more than three different characters.")
    return problems


def _check_password_policy(password: str, email: str, field: str = "password") -> None:
    problems = password_problems(password, email)
    if problems:
        raise InvalidInput({field: problems}, detail=f"{field}: {' '.join(problems)}")


def _verify_password(user: User | None, password: str) -> bool:
    hasher = _hasher()
    if user is None or not user.password_hash:
        # Spend the same time as a real check so response times do not reveal unknown emails.
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(), password)
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("harmony_dummy_hash", {})
    if "hash" not in cache:
        cache["hash"] = _hasher().hash(secrets.token_urlsafe(16))
    return str(cache["hash"])


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- login and sessions ---------------------------------------------------------------------


def _check_not_throttled(account: str, address: str | None) -> None:
    """:raises TooManyRequests: while too many wrong passwords for ``account`` (or any account)
    came from ``address`` lately; the password is not even checked then."""
    wait = throttle.seconds_to_wait(account, address)
    if wait:
        raise TooManyRequests(throttle.wait_message(wait), retry_after=wait)


@transactional
def authenticate(email: str, password: str, address: str | None = None) -> User:
    """The active user with this email and password, tried from the client ``address``.

    :raises Unauthenticated: with one message for an unknown email, a wrong password and a
        deactivated account alike, so that the answer reveals nothing.
    :raises TooManyRequests: while password guesses from ``address`` are paused (see
        core.throttle); for known and unknown emails alike.
    """
    session = get_session()
    _check_not_throttled(email, address)
    user = find_user_by_email(email)
    ok = _verify_password(user, password)
    if not ok or user is None or not user.is_active:
        throttle.record_failure(email, address)
        session.commit()
        raise Unauthenticated(LOGIN_FAILED)
    throttle.forget_account_failures(email, address)
    user.last_login_at = utcnow()
    session.commit()
    return user


def start_session(user: User, ip_address: str | None, user_agent: str | None) -> str:
    """Open a server-side session for ``user`` and return the secret the cookie carries."""
    session = get_session()
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            secret_hash=_sha256(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
            ip_address=(ip_address or "")[:64] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    session.commit()
    return secret


@dataclass
class ResolvedSession:
    user: User
    session_id: str


def resolve_session(secret: str) -> ResolvedSession | None:
    """The user behind a cookie secret, or None when the session is unknown, revoked, idle past
    its limit, past its absolute lifetime, or its user deactivated."""
    session = get_session()
    record = session.scalar(
        # the user in the same statement: every request of a logged-in browser asks this
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.secret_hash == _sha256(secret))
    )
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    idle = dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if record.last_seen_at + idle <= now:
        write_in_passing(_setter(record, revoked_at=now), "ending an idle session")
        return None
    if not record.user.is_active:
        return None
    if now - record.last_seen_at > dt.timedelta(minutes=1):
        # coarse, so that reading pages does not write on every request
        write_in_passing(_setter(record, last_seen_at=now), "a session's last use")
    return ResolvedSession(user=record.user, session_id=record.id)


def _setter(record: Any, **values: Any) -> Callable[[Session], None]:
    def write(_session: Session) -> None:
        for name, value in values.items():
            setattr(record, name, value)

    return write


def end_session(secret: str) -> None:
    session = get_session()
    record = session.scalar(select(UserSession).where(UserSession.secret_hash == _sha256(secret)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
    session.commit()


def _revoke_sessions(user: User, keep_session_id: str | None = None) -> int:
    session = get_session()
    records = session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ).all()
    now = utcnow()
    count = 0
    for record in records:
        if record.id != keep_session_id:
            record.revoked_at = now
            count += 1
    return count


def _own(actor: Actor, permission: Permission) -> User:
    """The actor as a user, for use cases about one's own account."""
    require(actor, permission)
    if not isinstance(actor, User):
        raise Unauthenticated("This concerns a personal account; log in first.")
    return actor


def current_account(actor: Actor) -> User:
    """The logged-in user. :raises Unauthenticated: for an anonymous caller (or the CLI)."""
    require_login(actor)
    if not isinstance(actor, User):
        raise Unauthenticated("This concerns a personal account; log in first.")
    return actor


def list_sessions(actor: Actor) -> list[UserSession]:
    me = _own(actor, Permission.SESSION_MANAGE)
    now = utcnow()
    return list(
        get_session().scalars(
            select(UserSession)
            .where(
                UserSession.user_id == me.id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


@transactional
def log_out_everywhere(actor: Actor, keep_session_id: str | None = None) -> int:
    """Revoke every open session of the actor (but ``keep_session_id``) and return how many."""
    me = _own(actor, Permission.SESSION_MANAGE)
    count = _revoke_sessions(me, keep_session_id)
    get_session().commit()
    return count


@transactional
def change_password(
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_session_id: str | None = None,
    address: str | None = None,
) -> None:
    """Change the actor's own password and end every other session.

    A wrong current password counts as a failed login from ``address``, so that a borrowed
    session cannot be used to guess the password faster than the login form allows.

    :raises InvalidInput: for a wrong current password or a new one that breaks the policy.
    :raises TooManyRequests: while password guesses from ``address`` are paused.
    """
    me = _own(actor, Permission.PASSWORD_CHANGE)
    _check_not_throttled(me.email, address)
    if not _verify_password(me, current_password):
        throttle.record_failure(me.email, address)
        get_session().commit()
        raise InvalidInput.field("current_password", "This is not your current password.")
    _check_password_policy(new_password, me.email, "new_password")
    if current_password == new_password:
        raise InvalidInput.field("new_password", "Choose a password you have not just used.")
    me.password_hash = hash_password(new_password)
    me.password_changed_at = utcnow()
    ended = _revoke_sessions(me, keep_session_id)
    audit.record(
        me,
        "password.changed",
        "user",
        me.id,
        summary=f"{me.name} changed their password; {_sessions(ended)} ended.",
        context={"sessions_ended": ended},
    )
    get_session().commit()


# --- API tokens -----------------------------------------------------------------------------


@transactional
def create_token(
    actor: Actor, owner: User, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token for ``owner``; the secret is returned once and never stored.

    :raises InvalidInput: for a lifetime outside 1 … API_TOKEN_MAX_DAYS days.
    """
    require(actor, Permission.TOKEN_MANAGE, owner)
    max_days = current_app.config["API_TOKEN_MAX_DAYS"]
    days = current_app.config["API_TOKEN_DEFAULT_DAYS"] if days is None else days
    if not 1 <= days <= max_days:
        raise InvalidInput.field("days", f"A token lives between 1 and {max_days} days.")
    if not owner.is_active:
        raise Conflict("A deactivated account cannot receive tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=name.strip() or "API token",
        prefix=secret[:10],
        token_hash=_sha256(secret),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    get_session().add(token)
    get_session().flush()
    audit.record(
        actor,
        "token.created",
        "user",
        owner.id,
        after={"name": token.name, "expires_at": token.expires_at},
        summary=f"API token “{token.name}” created for {owner.name}, valid {days} days.",
        context={"token": token.id},
    )
    get_session().commit()
    return token, secret


def resolve_token(secret: str) -> User | None:
    """The active owner of an unexpired, unrevoked token, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    session = get_session()
    token = session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _sha256(secret))
    )
    now = utcnow()
    if token is None or not hmac.compare_digest(token.token_hash, _sha256(secret)):
        return None
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        write_in_passing(_setter(token, last_used_at=now), "a token's last use")
    return token.user


def list_tokens(actor: Actor) -> list[ApiToken]:
    me = _own(actor, Permission.TOKEN_MANAGE)
    return list(
        get_session().scalars(
            select(ApiToken).where(ApiToken.user_id == me.id).order_by(ApiToken.created_at.desc())
        )
    )


@transactional
def revoke_token(actor: Actor, token_id: str) -> ApiToken:
    """Revoke one of the actor's tokens. :raises NotFound: for someone else's token."""
    _own(actor, Permission.TOKEN_MANAGE)
    token = get_session().get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.")
    require(actor, Permission.TOKEN_MANAGE, token.user, hide=True)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            actor,
            "token.revoked",
            "user",
            token.user_id,
            summary=f"API token “{token.name}” revoked.",
            context={"token": token.id},
        )
    get_session().commit()
    return token


def open_admin_console(actor: Actor) -> None:
    """The administration pages are for administrators. :raises Forbidden: for anyone else."""
    require(actor, Permission.ADMIN_CONSOLE)


# --- organisations --------------------------------------------------------------------------

ORGANISATION_SORTS = {
    "name": func.lower(Organisation.name),
    "country": Organisation.country,
    "kind": Organisation.kind,
    "created_at": Organisation.created_at,
}


def list_organisations(
    actor: Actor,
    *,
    q: str | None = None,
    country: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 25,
    sort: str | None = None,
) -> Page[Organisation]:
    require(actor, Permission.ORGANISATION_READ)
    stmt = select(Organisation)
    if q:
        # the name's key, not ILIKE: SQLite's ILIKE folds ASCII letters only ("ärzte" would
        # not find "Ärztekammer" there)
        pattern = f"%{_escape_like(casefold_key(q))}%"
        stmt = stmt.where(Organisation.name_key.like(pattern, escape="\\"))
    if country:
        stmt = stmt.where(Organisation.country == country.upper())
    if kind:
        stmt = stmt.where(Organisation.kind == OrganisationKind(kind))
    return paginate(
        stmt,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=ORGANISATION_SORTS,
        default_sort="name",
        tiebreak=Organisation.id,
    )


def get_organisation(actor: Actor, organisation_id: str) -> Organisation:
    organisation = get_session().get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    require(actor, Permission.ORGANISATION_READ, organisation, hide=True)
    return organisation


def _name_taken(model: Any, name: str, exclude_id: str | None = None) -> bool:
    """Whether another row has this name, whatever its case (see models.casefold_key)."""
    stmt = select(model.id).where(model.name_key == casefold_key(name))
    if exclude_id:
        stmt = stmt.where(model.id != exclude_id)
    return get_session().scalar(stmt) is not None


@transactional
def create_organisation(actor: Actor, data: dict[str, Any]) -> Organisation:
    """:raises Conflict: when an organisation of that name (any case) or ROR id exists."""
    require(actor, Permission.ORGANISATION_CREATE)
    if _name_taken(Organisation, data["name"]):
        raise InvalidInput.field("name", "An organisation with this name exists already.")
    organisation = Organisation(**data)
    session = get_session()
    session.add(organisation)
    _flush_or_conflict(ORGANISATION_UNIQUE)
    audit.record(
        actor,
        "organisation.created",
        "organisation",
        organisation.id,
        after=audit.snapshot(organisation, ORGANISATION_FIELDS),
        summary=f"Organisation “{organisation.name}” ({organisation.country}) registered.",
    )
    session.commit()
    return organisation


#: how long a worker's copy of the organisations' names is used (see organisation_names)
NAMES_SECONDS = 60.0
_NAMES = "harmony_organisation_names"  # app.extensions: _Names


@dataclass
class _Names:
    names: dict[str, str]
    read_at: float  # time.monotonic()
    lock: threading.Lock


def organisation_names(ids: Iterable[str]) -> dict[str, str]:
    """The names of these organisations (those that exist), from this worker's copy of every
    organisation's name: search's custodian facet names each organisation it counts, on every
    search (a statement of a hundred bound ids each time). The copy is read again when it is
    older than :data:`NAMES_SECONDS` or lacks an id asked for (at most once a second); a
    rename in this worker forgets it at once (:func:`update_organisation`), one in another
    worker shows there within :data:`NAMES_SECONDS`."""
    wanted = set(ids)
    if not wanted:
        return {}
    cache: _Names = current_app.extensions.setdefault(
        _NAMES, _Names({}, -math.inf, threading.Lock())
    )
    now = time.monotonic()
    age = now - cache.read_at
    if age > NAMES_SECONDS or (age > 1.0 and not wanted <= cache.names.keys()):
        rows = get_session().execute(select(Organisation.id, Organisation.name)).all()
        with cache.lock:
            cache.names, cache.read_at = dict(rows), now
    names = cache.names
    return {i: names[i] for i in wanted if i in names}


def forget_organisation_names() -> None:
    """This worker's copy of the organisations' names is read again at its next use."""
    cache: _Names | None = current_app.extensions.get(_NAMES)
    if cache is not None:
        with cache.lock:
            cache.read_at = -math.inf


@transactional
def update_organisation(actor: Actor, organisation_id: str, data: dict[str, Any]) -> Organisation:
    organisation = get_organisation(actor, organisation_id)
    require(actor, Permission.ORGANISATION_UPDATE, organisation)
    if "name" in data and _name_taken(Organisation, data["name"], organisation.id):
        raise InvalidInput.field("name", "An organisation with this name exists already.")
    was = audit.snapshot(organisation, ORGANISATION_FIELDS)
    for key, value in data.items():
        setattr(organisation, key, value)
    _flush_or_conflict(ORGANISATION_UNIQUE)
    before, after = audit.changed(was, audit.snapshot(organisation, ORGANISATION_FIELDS))
    if before or after:
        audit.record(
            actor,
            "organisation.updated",
            "organisation",
            organisation.id,
            before=before,
            after=after,
            summary=f"Organisation “{organisation.name}”: changed {', '.join(sorted(after))}.",
        )
    get_session().commit()
    forget_organisation_names()
    return organisation


# The fields of each record the audit trail shows before and after a change (never a secret).
ORGANISATION_FIELDS = ("name", "country", "kind", "city", "ror_id")
COMMITTEE_FIELDS = ("name", "description", "quorum", "is_default")
USER_FIELDS = ("email", "name", "organisation_id", "is_active")

# The unique columns of each table, with the field and message a clash of each is reported as.
ORGANISATION_UNIQUE = {
    "name_key": ("name", "An organisation with this name exists already."),
    "ror_id": ("ror_id", "An organisation with this ROR id exists already."),
}
COMMITTEE_UNIQUE = {"name_key": ("name", "A committee with this name exists already.")}
USER_UNIQUE = {"email_key": ("email", "An account with this email address exists already.")}


def _flush_or_conflict(unique: dict[str, tuple[str, str]]) -> None:
    """Write the pending changes; a unique constraint they break (another writer saved the same
    name since the service checked) becomes a 409 naming the field, the change rolled back.

    :raises Conflict: naming the field whose unique column the database refused.
    """
    try:
        get_session().flush()
    except IntegrityError as exc:
        get_session().rollback()
        message = str(exc.orig)
        for column, (field, text) in unique.items():
            if column in message:
                raise Conflict(text, errors={field: [text]}) from exc
        raise Conflict("This change clashes with data saved at the same moment.") from exc


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- committees -----------------------------------------------------------------------------


def list_committees(actor: Actor) -> list[DataAccessCommittee]:
    require(actor, Permission.COMMITTEE_READ)
    return list(
        get_session().scalars(select(DataAccessCommittee).order_by(DataAccessCommittee.name))
    )


def get_committee(actor: Actor, committee_id: str) -> DataAccessCommittee:
    require_login(actor)
    committee = get_session().get(DataAccessCommittee, committee_id)
    if committee is None:
        raise NotFound("No such committee.")
    require(actor, Permission.COMMITTEE_READ, committee, hide=True)
    return committee


def _only_default(actor: Actor, committee: DataAccessCommittee) -> None:
    """There is one default committee: making ``committee`` the default unsets the others
    (each recorded in the audit trail)."""
    if not committee.is_default:
        return
    for other in get_session().scalars(
        select(DataAccessCommittee).where(
            DataAccessCommittee.is_default.is_(True), DataAccessCommittee.id != committee.id
        )
    ):
        other.is_default = False
        audit.record(
            actor,
            "committee.updated",
            "committee",
            other.id,
            before={"is_default": True},
            after={"is_default": False},
            summary=f"Committee “{other.name}” is no longer the default: “{committee.name}” is.",
        )


@transactional
def create_committee(actor: Actor, data: dict[str, Any]) -> DataAccessCommittee:
    require(actor, Permission.COMMITTEE_CREATE)
    if _name_taken(DataAccessCommittee, data["name"]):
        raise InvalidInput.field("name", "A committee with this name exists already.")
    committee = DataAccessCommittee(**data)
    get_session().add(committee)
    _flush_or_conflict(COMMITTEE_UNIQUE)
    _only_default(actor, committee)
    audit.record(
        actor,
        "committee.created",
        "committee",
        committee.id,
        after=audit.snapshot(committee, COMMITTEE_FIELDS),
        summary=f"Committee “{committee.name}” created.",
    )
    get_session().commit()
    return committee


@transactional
def update_committee(actor: Actor, committee_id: str, data: dict[str, Any]) -> DataAccessCommittee:
    committee = get_committee(actor, committee_id)
    require(actor, Permission.COMMITTEE_UPDATE, committee)
    if "name" in data and _name_taken(DataAccessCommittee, data["name"], committee.id):
        raise InvalidInput.field("name", "A committee with this name exists already.")
    was = audit.snapshot(committee, COMMITTEE_FIELDS)
    for key, value in data.items():
        setattr(committee, key, value)
    _flush_or_conflict(COMMITTEE_UNIQUE)
    _only_default(actor, committee)
    before, after = audit.changed(was, audit.snapshot(committee, COMMITTEE_FIELDS))
    if before or after:
        audit.record(
            actor,
            "committee.updated",
            "committee",
            committee.id,
            before=before,
            after=after,
            summary=f"Committee “{committee.name}”: changed {', '.join(sorted(after))}.",
        )
    get_session().commit()
    return committee


# --- users and roles ------------------------------------------------------------------------

USER_SORTS = {
    "name": func.lower(User.name),
    "email": User.email,
    "created_at": User.created_at,
    "last_login_at": User.last_login_at,
}


def list_users(
    actor: Actor,
    *,
    q: str | None = None,
    role: str | None = None,
    organisation_id: str | None = None,
    active: bool | None = None,
    page: int = 1,
    per_page: int = 25,
    sort: str | None = None,
) -> Page[User]:
    require(actor, Permission.USER_LIST)
    stmt = select(User)
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if role:
        if role not in {r.value for r in Role}:
            raise InvalidInput.field("role", f"One of: {', '.join(r.value for r in Role)}.")
        stmt = stmt.where(User.grants.any(RoleGrant.role == Role(role)))
    if organisation_id:
        stmt = stmt.where(User.organisation_id == organisation_id)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return paginate(
        stmt,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=USER_SORTS,
        default_sort="name",
        tiebreak=User.id,
    )


def get_user(actor: Actor, user_id: str) -> User:
    require_login(actor)
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    require(actor, Permission.USER_READ, user, hide=True)
    return user


def find_user_by_email(email: str) -> User | None:
    """The account with this email address, whatever its case (see models.casefold_key)."""
    return get_session().scalar(select(User).where(User.email_key == casefold_key(email)))


def _existing_organisation(organisation_id: str | None, field: str = "organisation") -> None:
    if organisation_id and get_session().get(Organisation, organisation_id) is None:
        raise InvalidInput.field(field, "No organisation with this id.")


@transactional
def create_user(actor: Actor, data: dict[str, Any]) -> User:
    """Create an account, optionally with a password and first roles.

    :raises InvalidInput: for a taken email, an unknown organisation or a weak password.
    """
    require(actor, Permission.USER_CREATE)
    email = data["email"].strip().lower()
    if find_user_by_email(email) is not None:
        raise InvalidInput.field("email", "An account with this email address exists already.")
    _existing_organisation(data.get("organisation_id"))
    password = data.get("password")
    if password is not None:
        _check_password_policy(password, email)
    user = User(
        email=email,
        name=data["name"].strip(),
        organisation_id=data.get("organisation_id"),
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
    )
    session = get_session()
    session.add(user)
    _flush_or_conflict(USER_UNIQUE)
    audit.record(
        actor,
        "user.created",
        "user",
        user.id,
        after=audit.snapshot(user, USER_FIELDS) | {"password_set": password is not None},
        summary=f"Account {user.email} ({user.name}) created.",
    )
    for index, grant in enumerate(data.get("roles", [])):
        _add_grant(actor, user, grant, f"roles.{index}.")
    session.commit()
    return user


@transactional
def update_user(actor: Actor, user_id: str, data: dict[str, Any]) -> User:
    """Change name, organisation, email or active flag; deactivation ends sessions and tokens."""
    user = get_user(actor, user_id)
    require(actor, Permission.USER_UPDATE, user)
    was = audit.snapshot(user, USER_FIELDS)
    ended: dict[str, int] = {}
    if "email" in data:
        email = data["email"].strip().lower()
        other = find_user_by_email(email)
        if other is not None and other.id != user.id:
            raise InvalidInput.field("email", "An account with this email address exists already.")
        user.email = email
    if "organisation_id" in data:
        _existing_organisation(data["organisation_id"])
        user.organisation_id = data["organisation_id"]
    if "name" in data:
        user.name = data["name"].strip()
    if "is_active" in data and data["is_active"] != user.is_active:
        if not data["is_active"] and isinstance(actor, User) and actor.id == user.id:
            raise Conflict("You cannot deactivate your own account.")
        user.is_active = data["is_active"]
        if not user.is_active:
            ended["sessions_ended"] = _revoke_sessions(user)
            ended["tokens_revoked"] = _revoke_tokens(user)
    _flush_or_conflict(USER_UNIQUE)
    before, after = audit.changed(was, audit.snapshot(user, USER_FIELDS))
    if before or after:
        if after.get("is_active") is False:
            action = "user.deactivated"
            summary = (
                f"Account {user.email} deactivated; {_sessions(ended['sessions_ended'])} and "
                f"{_tokens(ended['tokens_revoked'])} ended."
            )
        elif after.get("is_active") is True:
            action, summary = "user.reactivated", f"Account {user.email} reactivated."
        else:
            action = "user.updated"
            summary = f"Account {user.email}: changed {', '.join(sorted(after))}."
        audit.record(
            actor,
            action,
            "user",
            user.id,
            before=before,
            after=after,
            summary=summary,
            context=ended,
        )
    get_session().commit()
    return user


def _sessions(count: int) -> str:
    return f"{count} other session{'s' if count != 1 else ''}" if count else "no other session"


def _tokens(count: int) -> str:
    return f"{count} API token{'s' if count != 1 else ''}" if count else "no API token"


def _revoke_tokens(user: User) -> int:
    now = utcnow()
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    tokens = get_session().scalars(query).all()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


@transactional
def set_password(actor: Actor, user_id: str, password: str) -> User:
    """An administrator (or the CLI) sets a password, usually because the account is lost or
    taken over: every session of the user ends and every API token is revoked, since whoever
    held the old password could have made tokens with it. The user logs in with the new
    password and makes new tokens."""
    user = get_user(actor, user_id)
    require(actor, Permission.USER_UPDATE, user)
    _check_password_policy(password, user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    sessions = _revoke_sessions(user)
    tokens = _revoke_tokens(user)
    audit.record(
        actor,
        "password.set",
        "user",
        user.id,
        summary=(
            f"Password of {user.email} set by {audit.actor_label(actor)}; "
            f"{_sessions(sessions).replace('other ', '')} and {_tokens(tokens)} ended."
        ),
        context={"sessions_ended": sessions, "tokens_revoked": tokens},
    )
    get_session().commit()
    return user


def _add_grant(actor: Actor, user: User, grant: dict[str, Any], field: str = "") -> RoleGrant:
    """Attach a role; ``field`` prefixes the names in error messages (``roles.0.``)."""
    role = Role(grant["role"])
    organisation_id = grant.get("organisation_id")
    committee_id = grant.get("committee_id")
    if role is Role.CUSTODIAN:
        if not organisation_id:
            raise InvalidInput.field(
                f"{field}organisation_id", "A custodian role names its organisation."
            )
        _existing_organisation(organisation_id, f"{field}organisation_id")
    elif organisation_id:
        raise InvalidInput.field(
            f"{field}organisation_id", "Only the custodian role takes an organisation."
        )
    if role in (Role.DAC_MEMBER, Role.DAC_CHAIR):
        if not committee_id:
            raise InvalidInput.field(
                f"{field}committee_id", "A committee role names its committee."
            )
        if get_session().get(DataAccessCommittee, committee_id) is None:
            raise InvalidInput.field(f"{field}committee_id", "No committee with this id.")
    elif committee_id:
        raise InvalidInput.field(f"{field}committee_id", "Only committee roles take a committee.")
    for existing in user.grants:
        if (existing.role, existing.organisation_id, existing.committee_id) == (
            role,
            organisation_id,
            committee_id,
        ):
            raise Conflict("The user holds this role already.")
    record = RoleGrant(
        role=role,
        organisation_id=organisation_id,
        committee_id=committee_id,
        granted_by_id=actor.id if isinstance(actor, User) else None,
    )
    user.grants.append(record)
    get_session().flush()
    _audit_grant(actor, "role.granted", user, record)
    return record


def _audit_grant(actor: Actor, action: str, user: User, grant: RoleGrant) -> None:
    """A role granted or revoked, about the user; a committee role also about the committee
    (its membership), so that each one's history tells it."""
    scope = grant.organisation or grant.committee
    label = ROLE_LABELS[grant.role] + (f" of {scope.name}" if scope is not None else "")
    verb = "granted to" if action == "role.granted" else "revoked from"
    context = {
        "grant": grant.id,
        "role": grant.role.value,
        "organisation": grant.organisation_id,
        "committee": grant.committee_id,
    }
    context = {k: v for k, v in context.items() if v is not None}
    audit.record(
        actor, action, "user", user.id, summary=f"{label} {verb} {user.email}.", context=context
    )
    if grant.committee_id:
        member = (
            "committee.member_added" if action == "role.granted" else "committee.member_removed"
        )
        audit.record(
            actor,
            member,
            "committee",
            grant.committee_id,
            summary=f"{user.name} ({user.email}): {ROLE_LABELS[grant.role]} {verb.split()[0]}.",
            context=context | {"user": user.id},
        )


@transactional
def grant_role(actor: Actor, user_id: str, grant: dict[str, Any]) -> RoleGrant:
    """:raises Conflict: when the user holds the same role (with the same scope) already."""
    user = get_user(actor, user_id)
    require(actor, Permission.ROLE_GRANT, user)
    record = _add_grant(actor, user, grant)
    get_session().commit()
    return record


@transactional
def revoke_role(actor: Actor, user_id: str, grant_id: str) -> None:
    """:raises Conflict: when an administrator would remove the last administrator."""
    user = get_user(actor, user_id)
    require(actor, Permission.ROLE_REVOKE, user)
    record = next((g for g in user.grants if g.id == grant_id), None)
    if record is None:
        raise NotFound("This user has no such role grant.")
    if record.role is Role.ADMIN:
        admins = get_session().scalar(
            select(func.count()).select_from(RoleGrant).where(RoleGrant.role == Role.ADMIN)
        )
        if admins is not None and admins <= 1:
            raise Conflict("This is the last administrator; grant the role to someone else first.")
    _audit_grant(actor, "role.revoked", user, record)
    user.grants.remove(record)
    get_session().commit()


# --- figures for the home page --------------------------------------------------------------


def account_counts() -> dict[str, int]:
    session = get_session()
    return {
        "organisations": session.scalar(select(func.count()).select_from(Organisation)) or 0,
        "users": session.scalar(select(func.count()).select_from(User).where(User.is_active)) or 0,
        "committees": session.scalar(select(func.count()).select_from(DataAccessCommittee)) or 0,
    }
