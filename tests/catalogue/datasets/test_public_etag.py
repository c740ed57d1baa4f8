"""The ETag a reader who cannot edit a dataset gets changes only when what that reader sees
changes: editing an unpublished draft of a published dataset must not show on the public page
(it would tell the world that something is being prepared). Editors keep the revision ETag that
their If-Match needs."""

from __future__ import annotations

from core.models import Role


def test_editing_a_draft_leaves_the_public_etag_alone(client, make, vocabularies):
    organisation = make.organisation()
    editor = {
        "Authorization": f"Bearer {make.token(make.user(Role.CUSTODIAN, organisation=organisation))}"
    }
    reader = {"Authorization": f"Bearer {make.token(make.user(Role.RESEARCHER))}"}
    identifier = make.dataset(organisation, publish=True, patients=120)
    url = f"/api/v1/datasets/{identifier}"

    public = client.get(url)
    assert public.status_code == 200
    public_etag = public.headers["ETag"]
    assert client.get(url, headers=reader).headers["ETag"] == public_etag
    version_1 = client.get(f"{url}/versions/1").headers["ETag"]

    editor_etag = client.get(url, headers=editor).headers["ETag"]
    opened = client.post(f"{url}/versions", headers=editor | {"If-Match": editor_etag})
    assert opened.status_code == 201
    edited = client.patch(
        url, json={"patients": 140}, headers=editor | {"If-Match": opened.headers["ETag"]}
    )
    assert edited.status_code == 200

    # the public and other readers see version 1 as before, with the same ETag
    after = client.get(url)
    assert after.json["patients"] == 120
    assert after.headers["ETag"] == public_etag
    assert client.get(url, headers=reader).headers["ETag"] == public_etag
    assert client.get(f"{url}/versions/1").headers["ETag"] == version_1
    # the editor's ETag is the one edits quote, and it still works
    current = client.get(url, headers=editor)
    assert current.json["patients"] == 140
    again = client.patch(
        url, json={"patients": 150}, headers=editor | {"If-Match": current.headers["ETag"]}
    )
    assert again.status_code == 200

    # publishing changes what the public sees, and so its ETag
    published = client.post(f"{url}/publish", headers=editor | {"If-Match": again.headers["ETag"]})
    assert published.status_code == 200
    now_public = client.get(url)
    assert now_public.json["patients"] == 150
    assert now_public.headers["ETag"] != public_etag
    retired = client.post(
        f"{url}/retire",
        json={"note": "Pooled elsewhere."},
        headers=editor | {"If-Match": published.headers["ETag"]},
    )
    assert retired.status_code == 200
    assert client.get(url).headers["ETag"] != now_public.headers["ETag"]
