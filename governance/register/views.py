"""``/register``: the public register of approved data uses (anyone, no login)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from core.errors import InvalidInput
from governance.register import services

bp = Blueprint("register", __name__, template_folder="templates")


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError as exc:
        raise InvalidInput.field("page", "A page is a whole number from 1.") from exc
    return number


@bp.get("/register")
def register_page() -> str:
    q = (request.args.get("q") or "").strip()[: services.MAX_QUERY]
    page = services.list_register(q, page=_page_number(request.args.get("page")), per_page=20)
    return render_template("register/register.html", page=page, q=q)
