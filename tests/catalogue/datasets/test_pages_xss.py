"""Script, event-handler, ``javascript:`` and SVG payloads stored in a dataset's title,
description, keywords (and the other free texts) are inert on every page that shows them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from core.models import Role
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("vocabularies")

PAYLOADS = [
    "<script>alert('s1')</script>",
    "<img src=x onerror=alert('s2')>",
    "<svg onload=alert('s3')>",
    "<svg><script>alert('s4')</script></svg>",
    '"><script>alert("s5")</script>',
    "' onmouseover='alert(6)",
    "<a href=\"javascript:alert('s7')\">link</a>",
    "<iframe src=javascript:alert('s8')></iframe>",
    "<math><mtext><img src=x onerror=alert('s9')></mtext></math>",
]
DESCRIPTION = "\n\n".join(
    [
        *PAYLOADS,
        "[click me](javascript:alert('m1'))",
        "[spaced](  JaVaScRiPt:alert('m2'))",
        "![img](javascript:alert('m3'))",
        "<javascript:alert('m4')>",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<details open ontoggle=alert('m5')>",
    ]
)
TITLE = "AML <script>alert('t1')</script><img src=x onerror=alert('t2')><svg onload=alert('t3')>"
KEYWORDS = [
    "<script>alert('k1')</script>",
    "<img src=x onerror=alert('k2')>",
    "<svg/onload=alert('k3')>",
    "javascript:alert('k4')",
]
OUR_SCRIPTS = ("/static/", "/catalogue/static/")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class ActiveContent(HTMLParser):
    """Collects everything in a page that could run: script elements that are not ours, SVG,
    frames and objects, event-handler attributes, and script URLs in link-like attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith(OUR_SCRIPTS):
            self.found.append(f"<script {values}>")
        if tag in {"svg", "math", "iframe", "object", "embed", "img"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.fixture
def hostile(make):
    """A published dataset with an open draft, a retired one, and a plain draft, all carrying
    the payloads, and a custodian of their organisation."""
    org = make.organisation(name="Payload Group")
    custodian = make.user(Role.CUSTODIAN, organisation=org)
    fields = {
        "title": TITLE,
        "description": DESCRIPTION,
        "keywords": KEYWORDS,
        "contact_name": PAYLOADS[1],
        "access_rights": PAYLOADS[2],
        "version": PAYLOADS[4][:80],
    }
    variables = [
        {
            "name": "x_<script>",
            "label": PAYLOADS[0],
            "description": PAYLOADS[1],
            "form": PAYLOADS[2],
            "permissible_values": [{"code": "<svg onload=1>", "label": PAYLOADS[6]}],
        }
    ]
    published = make.dataset(org, publish=True, variables=variables, **fields)
    mapped = [dict(variables[0], mappings=["HV:0000017"]), dict(variables[0], name="y_<svg>")]
    draft = make.dataset(org, variables=mapped, **fields)
    retired = make.dataset(org, publish=True, **fields)
    from catalogue.datasets import services as datasets
    from catalogue.models import Mapping, MappingStatus, Variable
    from core.db import get_session
    from core.policies import SYSTEM

    with make.app.app_context():
        datasets.retire(SYSTEM, retired, PAYLOADS[1] + PAYLOADS[6], datasets.UNCHECKED)
        session = get_session()
        variable = session.scalar(select(Variable).where(Variable.name == "y_<svg>"))
        session.add(
            Mapping(
                variable_id=variable.id,
                object_curie="HV:0000045",
                status=MappingStatus.SUGGESTED,
                confidence=0.5,
                reason=PAYLOADS[2],
                comment=PAYLOADS[1],
                author_label=PAYLOADS[0],
            )
        )
        session.commit()
    return {"published": published, "draft": draft, "retired": retired, "custodian": custodian}


def pages_of(hostile: dict[str, str]) -> list[str]:
    p, d, r = hostile["published"], hostile["draft"], hostile["retired"]
    return [
        "/datasets",
        "/datasets/mine",
        f"/datasets/{p}",
        f"/datasets/{p}/versions/1",
        f"/datasets/{d}",
        f"/datasets/{d}/edit",
        f"/datasets/{r}",
        f"/datasets/{p}/edit",  # published: the "open a new version" page
        f"/datasets/{d}/mappings",
        f"/datasets/{d}/mappings?show=accepted",
        f"/datasets/{d}/mappings?show=unmapped",
        f"/datasets/{d}/dictionary",
    ]


def test_payloads_are_inert_for_the_public(client, hostile):
    public = [
        p for p in pages_of(hostile) if not re.search(r"/mine|/edit|/mappings|/dictionary", p)
    ]
    public.remove(f"/datasets/{hostile['draft']}")
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, path
        assert active_content(response.get_data(as_text=True)) == [], path


def test_payloads_are_inert_for_their_custodian(client, hostile):
    login(client, hostile["custodian"].email)
    for path in pages_of(hostile):
        response = client.get(path)
        assert response.status_code in (200, 409), path
        html = response.get_data(as_text=True)
        assert active_content(html) == [], path
        assert "Content-Security-Policy" in response.headers


def test_payloads_stay_visible_as_text(client, hostile):
    """Escaped, not dropped: a custodian can see (and fix) what was stored."""
    login(client, hostile["custodian"].email)
    page = client.get(f"/datasets/{hostile['draft']}").get_data(as_text=True)
    assert "AML &lt;script&gt;alert(&#39;t1&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(&#39;k2&#39;)&gt;" in page
    form = client.get(f"/datasets/{hostile['draft']}/edit").get_data(as_text=True)
    assert "&lt;svg onload=alert(&#39;s3&#39;)&gt;" in form  # inside the textarea, as text
    review = client.get(f"/datasets/{hostile['draft']}/mappings").get_data(as_text=True)
    assert "<code>y_&lt;svg&gt;</code>" in review
    assert '<td class="reason">&lt;svg onload=alert(&#39;s3&#39;)&gt;</td>' in review


def test_the_detector_finds_live_payloads():
    """The check above is only as good as its parser: it must flag the raw payloads."""
    for payload in [*PAYLOADS[:4], PAYLOADS[6], PAYLOADS[7], PAYLOADS[8]]:
        assert active_content(payload), payload
    assert active_content('<a href=" JaVaScRiPt:alert(1)">x</a>')
    assert not active_content('<script src="/static/js/app.js" defer></script>')
