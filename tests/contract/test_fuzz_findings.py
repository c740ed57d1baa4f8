"""What the schemathesis run (test_openapi_fuzz.py) found, pinned as plain requests."""

from __future__ import annotations


def test_a_multipart_part_without_a_readable_name_is_422_not_500(client, make):
    """``name="\\"`` leaves the part's name unreadable (werkzeug gives None)."""
    from core.models import Role

    token = make.token(make.user(Role.ADMIN))
    boundary = "fuzz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\\"\r\n\r\nfalse\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.ttl"\r\n\r\n'
        f"\r\n--{boundary}--\r\n"
    )
    response = client.post(
        "/api/v1/ontologies",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "form" in response.get_json()["errors"]
