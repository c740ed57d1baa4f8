"""Content negotiation between a page and its RDF.

``/catalogue``, ``/fdp``, ``/fdp/catalogs``, ``/datasets/{id}``,
``/datasets/{id}/versions/{n}``, ``/datasets/{id}/variables/{name}`` (and its
``…/values/{code}``) and ``/organisations/{id}`` answer with HTML to browsers (a page, or a
redirect to one) and with Turtle, JSON-LD, RDF/XML or N-Triples to clients that ask for one
(``Accept``); every answer carries ``Vary: Accept`` so that caches keep them apart, and an
``Accept`` that names none of them gets 406 (problem+json listing what is on offer).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request

from catalogue.dcat.serialize import FORMATS, RdfFormat
from core.errors import problem

HTML = "text/html"
HTML_TYPES = (HTML, "application/xhtml+xml")
RDF_TYPES = tuple(f.media_type for f in FORMATS.values())


def choose(*, html: bool = True) -> RdfFormat | str | None:
    """What to answer with: :data:`HTML`, an RDF format, or None when the client accepts none
    of them. No ``Accept`` header (or ``*/*``) means the first offer: HTML where there is a
    page, Turtle elsewhere."""
    offers = (list(HTML_TYPES) if html else []) + list(RDF_TYPES)
    if not request.headers.get("Accept", "").strip():
        best: str | None = offers[0]
    else:
        best = request.accept_mimetypes.best_match(offers)
    if best is None:
        return None
    if best in HTML_TYPES:
        return HTML
    return next(f for f in FORMATS.values() if f.media_type == best)


def not_acceptable() -> Response:
    offered = ", ".join((HTML, *RDF_TYPES))
    response = problem(
        406,
        f"This resource is available as {offered}; none of them is acceptable to you "
        f"(Accept: {request.headers.get('Accept', '')}).",
        title="Not acceptable",
        slug="not-acceptable",
    )
    response.vary.add("Accept")
    return response


def rdf_response(data: bytes, fmt: RdfFormat, *, negotiated: bool) -> Response:
    response = Response(data, mimetype=fmt.media_type)  # text/* gets "; charset=utf-8"
    if negotiated:
        response.vary.add("Accept")
    return response


def negotiated(
    rdf_view: Callable[..., Response],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give an HTML view an RDF alternative: ``rdf_view(fmt=…, **view_args)`` answers the
    clients that prefer RDF."""

    def decorator(html_view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(html_view)
        def view(**kwargs: Any) -> Any:
            choice = choose(html=True)
            if choice is None:
                return not_acceptable()
            if isinstance(choice, RdfFormat):
                response = rdf_view(fmt=choice, negotiated=True, **kwargs)
            else:
                response = make_response(html_view(**kwargs))
            response.vary.add("Accept")
            return response

        return view

    return decorator
