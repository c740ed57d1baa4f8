"""Pages of saved research purposes: "My research purposes" (list, create, edit, delete).

The form goes through the API's schema (:class:`SavedPurposeInputSchema`, which checks the
purpose with the compatibility check's :class:`PurposeSchema`) and the same services; a
disease typed without choosing a suggestion is resolved here, so the form works without
JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core.api import actor
from core.errors import InvalidInput, PreconditionFailed, flatten_webargs_messages
from core.forms import STALE_FORM, form_action
from core.policies import require_login
from core.text import plural
from governance.matching import check
from governance.purposes import services
from governance.purposes.models import SavedPurpose
from governance.purposes.schemas import SavedPurposeInputSchema
from ontologies import hierarchy_cache
from ontologies import services as ontology

bp = Blueprint(
    "purposes",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/purposes/static",
)
DISEASE_ONTOLOGY = "HAEM"

#: the purpose terms as the form offers them: (CURIE, short name, plain-language explanation)
TERM_CHOICES: list[tuple[str, str, str]] = [
    (
        check.GRU,
        "General research use (GRU)",
        "Any research: health or not, including studies of population origins.",
    ),
    (
        check.HMB,
        "Health, medical or biomedical research (HMB)",
        "Research about health and disease, not restricted to one disease.",
    ),
    (
        check.DS,
        "Disease-specific research (DS)",
        "Research about the diseases you name below (and the diseases below them).",
    ),
    (
        check.POA,
        "Population origins or ancestry research (POA)",
        "Research into where populations come from, or into ancestry.",
    ),
    (
        check.METHOD_DEVELOPMENT,
        "Method development",
        "Developing methods, software or algorithms (not answering a health question).",
    ),
    (
        check.GENETIC,
        "Genetic research",
        "The research studies genes or genetic variants.",
    ),
    (
        check.DRUG_DEVELOPMENT,
        "Drug development",
        "The research is part of developing a medicine.",
    ),
    (
        check.POPULATION,
        "Population research",
        "Research about groups of people; a committee always looks at it.",
    ),
    (
        check.ANCESTRY,
        "Ancestry research",
        "Research about the ancestry of the people in the data.",
    ),
    (
        check.AGE_CATEGORY,
        "Age-category research",
        "Research comparing age groups; a committee always looks at it.",
    ),
    (
        check.GENDER_CATEGORY,
        "Gender-category research",
        "Research comparing genders; a committee always looks at it.",
    ),
    (
        check.RESEARCH_CONTROL,
        "Use as research control",
        "The data serve as a control group for other research; a committee always looks at it.",
    ),
]
TERM_NAMES = {curie: name for curie, name, _hint in TERM_CHOICES}
YES_NO = {"": "Not answered", "yes": "Yes", "no": "No"}
FIELD_LABELS = {
    "name": "Name",
    "terms": "Kind of research",
    "diseases": "Diseases",
    "disease_add": "Add a disease",
    "commercial": "Commercial use",
    "ethics_approval": "Ethics approval",
    "country": "Country where the data will be used",
    "publication_not_before": "Publication not before",
    "duration_months": "Duration in months",
    "sensitive": "Sensitive research",
}


def _countries() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])


@dataclass
class PurposeForm:
    """A submitted purpose form: the values as typed, the API's input made of them, and the
    errors by the form's field names."""

    values: MultiDict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def diseases(self) -> list[str]:
        chosen = [c.strip() for c in self.values.getlist("diseases") if c.strip()]
        typed = (self.values.get("disease_add") or "").strip()
        if typed:
            try:
                chosen.append(
                    ontology.resolve_term(
                        actor(),
                        typed,
                        ontology=DISEASE_ONTOLOGY,
                        field="disease_add",
                        what="disease of the haematological-malignancy hierarchy",
                        example="NCIT:C3171",
                    )
                )
                self.values.poplist("disease_add")
            except InvalidInput as exc:
                self.add_errors(exc.errors or {"disease_add": [exc.detail]})
        chosen = list(dict.fromkeys(chosen))
        self.values.setlist("diseases", chosen)
        return chosen

    def schema_input(self) -> dict[str, Any]:
        v = self.values

        def text(name: str) -> str | None:
            return (v.get(name) or "").strip() or None

        def yes_no(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(text(name) or "")

        purpose: dict[str, Any] = {
            "terms": [t for t in v.getlist("terms") if t.strip()],
            "diseases": self.diseases(),
            "commercial": yes_no("commercial"),
            "ethics_approval": yes_no("ethics_approval"),
            "country": text("country"),
            "publication_not_before": text("publication_not_before"),
            "duration_months": text("duration_months"),
            "sensitive": v.get("sensitive") == "yes",
        }
        return {"name": v.get("name") or "", "purpose": purpose}

    def load(self) -> dict[str, Any]:
        """The schema's input, loaded.

        :raises InvalidInput: with the errors by the form's field names.
        """
        data = self.schema_input()
        try:
            loaded: dict[str, Any] = SavedPurposeInputSchema().load(data)
        except ValidationError as exc:
            self.add_errors(flatten_webargs_messages({"json": exc.messages}))
        if self.errors:
            raise InvalidInput(self.errors)
        return loaded

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            key = name.removeprefix("purpose.").split(".")[0]
            self.errors.setdefault(key, []).extend(messages)


def form_values(saved: SavedPurpose) -> MultiDict[str, str]:
    """A saved purpose as the form's values."""
    p = saved.purpose
    values: MultiDict[str, str] = MultiDict()
    values.add("name", saved.name)
    for term in p.get("terms") or []:
        values.add("terms", term)
    for disease in p.get("diseases") or []:
        values.add("diseases", disease)
    for name in ("commercial", "ethics_approval"):
        if p.get(name) is not None:
            values.add(name, "yes" if p[name] else "no")
    for name in ("country", "publication_not_before", "duration_months"):
        if p.get(name) is not None:
            values.add(name, str(p[name]))
    if p.get("sensitive"):
        values.add("sensitive", "yes")
    return values


def summary(purpose: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """A purpose in a few plain phrases, for the list."""
    out = [TERM_NAMES.get(t, t) for t in purpose.get("terms") or []]
    diseases = [labels.get(d, d) for d in purpose.get("diseases") or []]
    if diseases:
        out.append("Diseases: " + ", ".join(diseases))
    if purpose.get("commercial") is not None:
        out.append("Commercial" if purpose["commercial"] else "Not commercial")
    if purpose.get("ethics_approval"):
        out.append("Ethics approval")
    if purpose.get("country"):
        country = pycountry.countries.get(alpha_2=str(purpose["country"]).upper())
        out.append(f"Used in {country.name if country else purpose['country']}")
    if purpose.get("publication_not_before"):
        out.append(f"Publication from {purpose['publication_not_before']}")
    if purpose.get("duration_months"):
        out.append(plural(int(purpose["duration_months"]), "month"))
    if purpose.get("sensitive"):
        out.append("Sensitive")
    return out


@bp.get("/me/purposes")
def purpose_list() -> str:
    who = actor()
    require_login(who)
    page = services.list_purposes(who, page=1, per_page=services.MAX_PURPOSES)
    labels = hierarchy_cache.labels(
        sorted({d for p in page.items for d in p.purpose.get("diseases") or []})
    )
    return render_template(
        "purposes/purpose_list.html",
        page=page,
        summaries={p.id: summary(p.purpose, labels) for p in page.items},
        etags={p.id: services.etag(p) for p in page.items},
    )


def _form_page(
    values: MultiDict[str, str],
    errors: dict[str, list[str]],
    saved: SavedPurpose | None,
    etag: str | None,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    chosen = [c for c in values.getlist("diseases") if c]
    labels = hierarchy_cache.labels(chosen)
    return (
        render_template(
            "purposes/purpose_form.html",
            values=values,
            errors=errors,
            saved=saved,
            etag=etag,
            notice=notice,
            terms=TERM_CHOICES,
            chosen_terms=set(values.getlist("terms")),
            diseases=[(c, labels.get(c, c)) for c in chosen],
            countries=_countries(),
            yes_no=YES_NO,
            field_labels=FIELD_LABELS,
            disease_ontology=DISEASE_ONTOLOGY,
        ),
        status,
    )


@bp.route("/me/purposes/new", methods=["GET", "POST"])
def new_purpose() -> Any:
    who = actor()
    require_login(who)
    if request.method == "GET":
        return _form_page(MultiDict(), {}, None, None)
    form = PurposeForm(request.form.copy())
    try:
        data = form.load()
        saved = services.create_purpose(who, data["name"], data["purpose"])
    except InvalidInput as exc:
        form.add_errors(exc.errors or {"_form": [exc.detail]}) if not form.errors else None
        return _form_page(form.values, form.errors, None, None, 422)
    flash(f"“{saved.name}” is saved. Search with it to see which datasets fit.", "success")
    return redirect(url_for("purposes.purpose_list"))


@bp.route("/me/purposes/<purpose_id>/edit", methods=["GET", "POST"])
def edit_purpose(purpose_id: str) -> Any:
    who = actor()
    require_login(who)
    saved = services.get_purpose(who, purpose_id)
    if request.method == "GET":
        return _form_page(form_values(saved), {}, saved, services.etag(saved))
    form = PurposeForm(request.form.copy())
    sent_etag = request.form.get("revision") or None
    try:
        data = form.load()
        services.update_purpose(who, purpose_id, data["name"], data["purpose"], sent_etag)
    except InvalidInput as exc:
        form.add_errors(exc.errors or {"_form": [exc.detail]}) if not form.errors else None
        return _form_page(form.values, form.errors, saved, sent_etag, 422)
    except PreconditionFailed:
        current = services.get_purpose(who, purpose_id)
        return _form_page(
            form.values, {}, current, services.etag(current), 412,
            notice="This purpose was changed (in another window?) after you opened this form; "
            "nothing was saved. Saving again replaces that change with what you see below.",
        )  # fmt: skip
    flash("Saved.", "success")
    return redirect(url_for("purposes.purpose_list"))


@bp.post("/me/purposes/<purpose_id>/delete")
def delete_purpose(purpose_id: str) -> WerkzeugResponse:
    back = url_for("purposes.purpose_list")
    return form_action(
        lambda who: services.delete_purpose(who, purpose_id, request.form.get("revision") or None),
        success="The purpose is deleted.",
        done=back,
        back=back,
        stale=STALE_FORM,
    )
