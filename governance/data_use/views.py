"""HTML of a dataset's data-use conditions: the form custodians fill in (``/datasets/<identifier>
/data-use``), the badges (``data_use/_badges.html``), and the panels the catalogue shows on the
dataset page and on each search hit.

The form works without JavaScript: the permissions are radio buttons, the modifiers check
boxes with their parameters beside them, the diseases check boxes ("chips") with a text field
whose name, synonym or CURIE the server resolves; ``dataset-form.js`` adds the same disease
autocomplete as the dataset form's. It goes through the same service as the API, and shows
each error next to the field it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus, DatasetVersion
from core.api import actor
from core.errors import InvalidInput, PreconditionFailed
from core.permissions import Permission
from core.policies import Actor, require, require_login
from governance.data_use import services, vocabulary
from ontologies import services as ontology

bp = Blueprint(
    "data_use",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/data-use/static",
)

STALE_FORM = (
    "Someone changed these conditions after you opened this page, so nothing was saved. "
    "The form shows what you chose; the conditions now in force are on the dataset's page. "
    "Save again to replace them with yours."
)
FIELD_LABELS: dict[str, str] = {
    "permission": "Permission",
    "diseases": "Diseases",
    "disease_add": "Add a disease",
    "_form": "Form",
} | {
    f"modifier-{t.code}": f"{t.code} ({t.label})" for t in vocabulary.MODIFIERS.values()
} | {
    f"{t.code}_{p.name}": f"{t.code}: {p.label}"
    for t in vocabulary.MODIFIERS.values()
    for p in t.params
}  # fmt: skip


@bp.app_template_global()
def data_use_stylesheet() -> Markup:
    """The badges' stylesheet link, once per page however many badges it shows."""
    if g.get("_data_use_stylesheet"):
        return Markup("")
    g._data_use_stylesheet = True
    href = url_for("data_use.static", filename="data_use.css")
    return Markup('<link rel="stylesheet" href="{}">').format(href)


@bp.app_template_global()
def data_use_badge_items(data_use: Any) -> list[dict[str, str]]:
    """What ``data_use_badges`` shows for a JSON-shaped dict: one item per code with its
    shorthand, its kind (permission or modifier) and its tooltip (label, parameters,
    explanation)."""
    if not data_use or not data_use.get("permission"):
        return []
    items = []
    permission = vocabulary.term(data_use["permission"])
    if permission is not None:
        tip = f"{permission.code}: {permission.label}"
        diseases = data_use.get("disease_terms") or [
            {"curie": c, "label": c} for c in data_use.get("diseases") or []
        ]
        if diseases:
            names = ", ".join(
                d["label"] if d["label"] == d["curie"] else f"{d['label']} ({d['curie']})"
                for d in diseases
            )
            tip += f" — {names}"
        items.append(
            {
                "code": permission.code,
                "kind": "permission",
                "tip": f"{tip}. {permission.explanation}",
            }
        )
    for modifier in data_use.get("modifiers") or []:
        duo = vocabulary.term(modifier.get("term", ""))
        if duo is None:
            continue
        summary = duo.summary(modifier)
        tip = f"{duo.code}: {duo.label}"
        if summary != duo.code:
            tip += f" ({summary})"
        items.append(
            {
                "code": duo.code,
                "kind": "modifier",
                "tip": f"{tip}. {duo.explanation}",
                "detail": summary.removeprefix(duo.code).strip(),
            }
        )
    return items


# --- the panels (catalogue.extensions) -------------------------------------------------------


def dataset_panel(who: Actor, dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """The dataset page's section: the badges, the revision, the edit link for those who may."""
    row = services.rows_of([dataset.id]).get(dataset.id)
    shape = services.shape_of(row)
    terms = datasets.terms_by_curie(shape["diseases"])
    shape["disease_terms"] = [
        {"curie": c, "label": terms[c].label if c in terms else c} for c in shape["diseases"]
    ]
    return {
        "data_use": shape if row is not None else None,
        "revision": row.revision if row is not None else 0,
        "updated_at": row.updated_at if row is not None else None,
        "can_edit": services.can_change(who, dataset)
        and dataset.status is not DatasetStatus.RETIRED,
        "edit_url": url_for("data_use.edit", identifier=dataset.identifier),
    }


def search_hit_panel(who: Actor, hit: Any = None, *args: Any) -> dict[str, Any]:
    """A search hit's badges, from what the annotator put on the hit (no query per hit). The
    search asks once per page, without a hit: the template then reads the ``hit`` it is
    included for."""
    extras = getattr(hit, "extras", None) or {}
    return {"data_use": extras.get("data_use"), "from_hit": hit is None}


# --- the form -------------------------------------------------------------------------------


def _split(text: str | None, lines: bool = False) -> list[str]:
    pattern = r"[\n;]+" if lines else r"[,;\s]+"
    return [part.strip() for part in re.split(pattern, text or "") if part.strip()]


@dataclass
class DataUseForm:
    """A submitted form: the values as typed, the JSON shape made of them, the errors by
    form field."""

    values: MultiDict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    modifier_codes: list[str] = field(default_factory=list)  # index in the shape → code
    chosen_diseases: list[str] = field(default_factory=list)

    def diseases(self) -> list[str]:
        chosen = [c for c in self.values.getlist("diseases") if c.strip()]
        typed = (self.values.get("disease_add") or "").strip()
        if typed:
            try:
                chosen.append(
                    ontology.resolve_term(
                        actor(),
                        typed,
                        ontology=vocabulary.DISEASE_ONTOLOGY,
                        field="disease_add",
                        what="disease of the haematological-malignancy hierarchy",
                        example="NCIT:C3171",
                    )
                )
            except InvalidInput as exc:
                for name, messages in (exc.errors or {}).items():
                    self.errors.setdefault(name, []).extend(messages)
        self.chosen_diseases = list(dict.fromkeys(chosen))
        return self.chosen_diseases

    def shape(self) -> dict[str, Any]:
        v = self.values
        permission = v.get("permission") or None
        data: dict[str, Any] = {"permission": permission, "modifiers": []}
        diseases = self.diseases()
        if permission == "DUO:0000007" or diseases:
            data["diseases"] = diseases
        chosen = set(v.getlist("modifiers"))
        for duo in vocabulary.MODIFIERS.values():
            if duo.curie not in chosen:
                continue
            item: dict[str, Any] = {"term": duo.curie}
            for param in duo.params:
                raw = (v.get(f"{duo.code}_{param.name}") or "").strip()
                if not raw:
                    continue
                if param.kind == "months":
                    item[param.name] = int(raw) if raw.isdigit() else raw
                elif param.kind == "regions":
                    item[param.name] = _split(raw)
                elif param.kind == "names":
                    item[param.name] = _split(raw, lines=True)
                else:
                    item[param.name] = raw
            data["modifiers"].append(item)
            self.modifier_codes.append(duo.code)
        return data

    def field_for(self, key: str) -> str:
        """The form field an error of the parser (``modifiers[2].date``) is about."""
        if key.startswith("diseases"):
            return "diseases"
        match = re.match(r"modifiers\[(\d+)\](?:\.(\w+))?", key)
        if match:
            index = int(match.group(1))
            code = self.modifier_codes[index] if index < len(self.modifier_codes) else None
            if code is None:
                return "_form"
            param = match.group(2)
            if param and param != "term" and f"{code}_{param}" in FIELD_LABELS:
                return f"{code}_{param}"
            return f"modifier-{code}"
        return key if key in FIELD_LABELS else "_form"

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = self.field_for(key)
            for message in messages:
                if message not in self.errors.get(name, []):
                    self.errors.setdefault(name, []).append(message)


def form_values(shape: dict[str, Any]) -> MultiDict[str, str]:
    """Stored conditions as the form shows them."""
    values: MultiDict[str, str] = MultiDict()
    if shape.get("permission"):
        values["permission"] = shape["permission"]
    for curie in shape.get("diseases") or []:
        values.add("diseases", curie)
    for item in shape.get("modifiers") or []:
        duo = vocabulary.term(item["term"])
        if duo is None:
            continue
        values.add("modifiers", duo.curie)
        for param in duo.params:
            value = item.get(param.name)
            if value is None:
                continue
            if param.kind == "regions":
                values[f"{duo.code}_{param.name}"] = ", ".join(value)
            elif param.kind == "names":
                values[f"{duo.code}_{param.name}"] = "\n".join(value)
            else:
                values[f"{duo.code}_{param.name}"] = str(value)
    return values


def _page(
    data_use: services.DataUse,
    values: MultiDict[str, str],
    errors: dict[str, list[str]],
    *,
    etag: str,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    chosen = [c for c in values.getlist("diseases") if c]
    labels = datasets.terms_by_curie(chosen)
    return render_template(
        "data_use/form.html",
        dataset=data_use.dataset,
        title=datasets.visible_version(actor(), data_use.dataset).title,
        row=data_use.row,
        values=values,
        errors=errors,
        etag=etag,
        notice=notice,
        diseases=[(c, labels[c].label if c in labels else c) for c in chosen],
        permissions=list(vocabulary.PERMISSIONS.values()),
        modifiers=list(vocabulary.MODIFIERS.values()),
        field_labels=FIELD_LABELS,
        disease_ontology=vocabulary.DISEASE_ONTOLOGY,
        retired=data_use.dataset.status is DatasetStatus.RETIRED,
    ), status


@bp.route("/datasets/<identifier>/data-use", methods=["GET", "POST"])
def edit(identifier: str) -> Any:
    who = actor()
    require_login(who)
    data_use = services.get_conditions(who, identifier)
    require(who, Permission.DATA_USE_UPDATE, data_use.dataset)
    if request.method == "GET":
        return _page(data_use, form_values(data_use.shape), {}, etag=data_use.etag)
    form = DataUseForm(request.form.copy())
    sent_etag = request.form.get("revision") or None
    before = data_use.row.revision if data_use.row is not None else 0
    try:
        shape = form.shape()
        if form.errors:
            raise InvalidInput(form.errors)
        saved = services.set_conditions(who, identifier, shape, sent_etag)
    except InvalidInput as exc:
        form.add_errors(exc.errors or {"_form": [exc.detail]})
        return _page(
            data_use, _resubmitted(form), form.errors, etag=sent_etag or data_use.etag, status=422
        )
    except PreconditionFailed:
        current = services.get_conditions(who, identifier)
        return _page(
            current, _resubmitted(form), {}, etag=current.etag, status=412, notice=STALE_FORM
        )
    revision = saved.row.revision if saved.row is not None else 0
    if revision == before:
        flash("Nothing changed: the conditions were already these.", "success")
    else:
        flash(f"Data-use conditions saved (revision {revision}).", "success")
    return _to_dataset(identifier)


def _to_dataset(identifier: str) -> WerkzeugResponse:
    return redirect(url_for("datasets.dataset", identifier=identifier))


def _resubmitted(form: DataUseForm) -> MultiDict[str, str]:
    """The form again after an error: a disease typed and resolved joins the chips."""
    values = form.values.copy()
    if "disease_add" not in form.errors and values.get("disease_add"):
        values.setlist("diseases", form.chosen_diseases)
        values.pop("disease_add")
    return values
