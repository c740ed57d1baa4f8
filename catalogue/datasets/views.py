"""HTML pages of datasets: the home page, the dataset lists, a dataset's page, its form, and its
lifecycle actions.

Every page works without JavaScript (``static/dataset-form.js`` only turns the disease field
into chips with autocomplete). The form goes through :class:`DatasetInputSchema`, the API's own
schema, and reports its errors and the service's next to the fields they concern. Forms carry
the dataset's ETag so that a stale edit is refused with a message instead of overwriting
someone else's change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue import extensions
from catalogue.datasets import services as datasets
from catalogue.datasets.markdown import plain_summary, render_markdown
from catalogue.datasets.schemas import (
    DatasetInputSchema,
    latest_first_year,
    latest_last_year,
    trial_id_kind,
)
from catalogue.dcat import views as dcat_views
from catalogue.dcat.negotiation import negotiated
from catalogue.dictionary import services as variables
from catalogue.models import (
    CLASSIFICATION_LABELS,
    DATA_MODEL_LABELS,
    PROVENANCE_LABELS,
    SOURCE_TYPE_LABELS,
    AgeGroup,
    Classification,
    DataModel,
    Dataset,
    DatasetStatus,
    DatasetVersion,
    ProvenanceStep,
    SourceType,
    ValueType,
    VersionStatus,
)
from catalogue.search import views as search_views
from core import services as accounts
from core import workflow
from core.api import actor
from core.audit import AuditEvent
from core.db import get_session
from core.errors import (
    InvalidInput,
    PreconditionFailed,
    flatten_webargs_messages,
)
from core.forms import form_action
from core.models import Organisation, Role, User
from core.nav import NavEntry, everyone, has_role, register
from core.permissions import Permission
from core.policies import Actor, can, is_admin, require, require_login
from core.workflow import available_actions
from ontologies import services as ontology
from ontologies.models import Term

bp = Blueprint("datasets", __name__, template_folder="templates")
#: what every catalogue sub-area shares: ``templates/catalogue/`` (``_macros.html``,
#: ``_discovery.html``) and ``static/`` at ``/catalogue/static`` (``url_for("catalogue.static")``)
shared = Blueprint(
    "catalogue",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/catalogue/static",
)
register(NavEntry("Datasets", "datasets.dataset_list", everyone, "main", 20))
register(
    NavEntry(
        "My datasets", "datasets.my_datasets", has_role(Role.CUSTODIAN, Role.ADMIN), "main", 25
    )
)

DATASETS_PER_PAGE = 20
VARIABLES_PER_PAGE = 50
AGE_GROUP_LABELS = {
    AgeGroup.PAEDIATRIC: "Paediatric",
    AgeGroup.ADULT: "Adult",
    AgeGroup.ELDERLY: "Elderly",
}
VALUE_TYPE_LABELS = {t: t.value.capitalize() for t in ValueType}
TRIAL_REGISTRY_URLS = {
    "EudraCT": "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
    "EU CT": "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={}",
    "NCT": "https://clinicaltrials.gov/study/{}",
}
STALE_FORM = (
    "Someone changed this dataset after you opened this page, so nothing was saved. "
    "Reload the dataset to see the change, then try again."
)


@bp.get("/")
def home() -> str:
    return render_template("datasets/home.html", summary=datasets.catalogue_summary())


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "render_markdown": render_markdown,
        "plain_summary": plain_summary,
        "source_type_labels": SOURCE_TYPE_LABELS,
        "data_model_labels": DATA_MODEL_LABELS,
        "classification_labels": CLASSIFICATION_LABELS,
        "provenance_labels": PROVENANCE_LABELS,
        "age_group_labels": AGE_GROUP_LABELS,
        "value_type_labels": VALUE_TYPE_LABELS,
        "country_name": country_name,
        "trial_link": trial_link,
        "person": person_name,
    }


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def trial_link(trial_id: str) -> str | None:
    """The registry page of a trial registration id (EudraCT, EU CT, NCT)."""
    kind = trial_id_kind(trial_id)
    return TRIAL_REGISTRY_URLS[kind].format(trial_id) if kind else None


def person_name(label: str) -> str:
    """``Name <email>`` as the history records it: the name only."""
    return label.split(" <", 1)[0]


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


# --- reads the pages need on top of the dataset service ------------------------------------


VariableCounts = datasets.VariableCounts  # re-exported: the dictionary and mapping pages
variable_counts = datasets.variable_counts


def last_changes(dataset_ids: Iterable[str]) -> dict[str, AuditEvent]:
    """The latest entry of each dataset's history (its newest audit event), in one query; for
    the dataset's editors (the lists of one's own datasets, the stale-form notice)."""
    ids = list(dataset_ids)
    if not ids:
        return {}
    latest = (
        select(func.max(AuditEvent.seq))
        .where(AuditEvent.object_type == "dataset", AuditEvent.object_id.in_(ids))
        .group_by(AuditEvent.object_id)
    )
    changes = get_session().scalars(select(AuditEvent).where(AuditEvent.seq.in_(latest)))
    return {c.object_id: c for c in changes}


terms_by_curie = datasets.terms_by_curie


@dataclass
class VariableFilters:
    q: str = ""
    form: str = ""
    value_type: str = ""
    mapped: str = ""  # "", "mapped" or "unmapped"

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> VariableFilters:
        value_type = args.get("type", "").strip()
        mapped = args.get("mapped", "").strip()
        return cls(
            q=args.get("q", "").strip()[:200],
            form=args.get("form", "").strip()[:200],
            value_type=value_type if value_type in {t.value for t in ValueType} else "",
            mapped=mapped if mapped in {"mapped", "unmapped"} else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.form or self.value_type or self.mapped)

    def args(self) -> dict[str, str]:
        return {
            k: v
            for k, v in {
                "q": self.q,
                "form": self.form,
                "type": self.value_type,
                "mapped": self.mapped,
            }.items()
            if v
        }


# --- lists ----------------------------------------------------------------------------------


@dataclass
class DatasetRow:
    """One dataset as a list shows it: the version the viewer sees, and what to say of it."""

    dataset: Dataset
    version: DatasetVersion
    terms: list[Term]
    draft: DatasetVersion | None = None  # an open draft, for its editors
    counts: VariableCounts = field(default_factory=VariableCounts)
    last_change: AuditEvent | None = None


def _rows(who: Actor, items: Sequence[Dataset], *, with_changes: bool = False) -> list[DatasetRow]:
    rows = []
    for dataset in items:
        version = datasets.visible_version(who, dataset)
        draft = datasets.open_draft(dataset) if version.status is VersionStatus.DRAFT else None
        rows.append(DatasetRow(dataset, version, [], draft))
    labels = terms_by_curie(d.term_curie for r in rows for d in r.version.diseases)
    counts = variable_counts(r.version.id for r in rows)
    changes = last_changes(r.dataset.id for r in rows) if with_changes else {}
    for row in rows:
        row.terms = [labels[d.term_curie] for d in row.version.diseases if d.term_curie in labels]
        row.counts = counts.get(row.version.id, VariableCounts())
        row.last_change = changes.get(row.dataset.id)
    return rows


#: the dataset list's ``status`` filter: current datasets (the search's), or the retired ones
DATASET_STATUSES = {"current": "Current", "retired": "Retired"}


@bp.get("/datasets")
def dataset_list() -> tuple[str, int] | str:
    """The catalogue's datasets: the search page with no query to begin with (its facets,
    sorts and pages; typing words searches them), or with ``status=retired`` the retired
    datasets, which the search leaves out (their pages stay as tombstones)."""
    who = actor()
    args = MultiDict((k, v) for k, v in request.args.items(multi=True))
    status = (args.pop("status", "") or "current").strip()
    retired = datasets.count_retired(who)
    can_register = who is not None and _may_register(who)
    if status == "retired":
        page = datasets.list_datasets(
            who,
            status=DatasetStatus.RETIRED,
            page=page_number(),
            per_page=DATASETS_PER_PAGE,
        )
        return render_template(
            "datasets/retired_list.html", page=page, rows=_rows(who, page.items), retired=retired
        )
    extra = {"statuses": DATASET_STATUSES, "retired": retired, "can_register": can_register}
    if status != "current":
        extra["status_error"] = "Choose the current or the retired datasets."
        rendered = search_views.render_search("datasets/dataset_list.html", args, **extra)
        return (rendered[0] if isinstance(rendered, tuple) else rendered), 422
    return search_views.render_search("datasets/dataset_list.html", args, **extra)


def _may_register(who: Actor) -> bool:
    return can(who, Permission.DATASET_CREATE)


@bp.get("/datasets/mine")
def my_datasets() -> str:
    who = actor()
    require_login(who)
    require(who, Permission.DATASET_CREATE)
    page = datasets.list_datasets(who, mine=True, page=page_number(), per_page=DATASETS_PER_PAGE)
    return render_template(
        "datasets/my_datasets.html",
        page=page,
        rows=_rows(who, page.items, with_changes=True),
        organisations=_organisation_names(who),
    )


def _organisation_names(who: Actor) -> list[str]:
    if not isinstance(who, User) or is_admin(who):
        return []
    return sorted(o.name for o in _custodian_organisations(who))


def _custodian_organisations(who: Actor) -> list[Organisation]:
    """The organisations ``who`` may register datasets for (every one, for an admin)."""
    if is_admin(who):
        organisations: list[Organisation] = []
        page_number = 1
        while True:
            page = accounts.list_organisations(who, page=page_number, per_page=200)
            organisations.extend(page.items)
            if page_number >= page.pages:
                return organisations
            page_number += 1
    if not isinstance(who, User):
        return []
    own = who.custodian_of()
    return sorted((accounts.get_organisation(who, org_id) for org_id in own), key=lambda o: o.name)


# --- a dataset's page -----------------------------------------------------------------------


@bp.get("/datasets/<identifier>")
@negotiated(dcat_views.dataset_rdf)  # RDF for clients that ask for it (Accept)
def dataset(identifier: str) -> str:
    return _dataset_page(identifier, None)


@bp.get("/datasets/<identifier>/versions/<int:number>")
@negotiated(dcat_views.version_rdf)
def dataset_version(identifier: str, number: int) -> str:
    return _dataset_page(identifier, number)


def _dataset_page(identifier: str, number: int | None) -> str:
    who = actor()
    version = datasets.get_version(who, identifier, number)
    dataset = version.dataset
    editor = datasets.can_edit(who, dataset)
    latest = datasets.latest_published(dataset)
    draft = datasets.open_draft(dataset)
    filters = VariableFilters.from_args(request.args)
    listed = variables.list_variables(
        who,
        dataset.identifier,
        version.number,
        mapped={"mapped": True, "unmapped": False}.get(filters.mapped),
        value_type=filters.value_type or None,
        form=filters.form or None,
        q=filters.q or None,
        page=page_number(),
        per_page=VARIABLES_PER_PAGE,
    )
    counts = variable_counts([version.id]).get(version.id, VariableCounts())
    current = version.status is VersionStatus.DRAFT or version is latest
    # the buttons are on the page of the version they act on: the open draft, else the latest
    head = version is draft if draft is not None else version is latest
    actions = available_actions(datasets.LIFECYCLE, who, dataset) if head else []
    return render_template(
        "datasets/dataset.html",
        dataset=dataset,
        version=version,
        editor=editor,
        current=current,
        actions=actions,
        latest=latest,
        draft=draft,
        terms=datasets.disease_terms(version),
        variables=listed,
        filters=filters,
        forms=[form for form, _count in variables.forms_of(version)],
        value_types=list(ValueType),
        counts=counts,
        versions=[v for v in dataset.versions if editor or v.published_at is not None],
        history=datasets.history(who, dataset.identifier),
        publish_problems=datasets.publish_problems(version) if editor and version is draft else {},
        etag=datasets.etag(dataset),
        field_labels=FIELD_LABELS,
        panels=extensions.panels("dataset", who, dataset, version),
    )


# --- the dataset form -----------------------------------------------------------------------

FIELD_LABELS = {
    "title": "Title",
    "identifier": "Identifier",
    "custodian": "Custodian organisation",
    "description": "Description",
    "diseases": "Diseases",
    "disease_add": "Add a disease",
    "source_type": "Source type",
    "trial_ids": "Trial registration ids",
    "countries": "Countries",
    "patients": "Number of patients",
    "records": "Number of records",
    "time_coverage": "Time coverage",
    "first_year": "First year",
    "last_year": "Last year",
    "age_groups": "Age groups",
    "data_model": "Data model",
    "keywords": "Keywords",
    "contact": "Contact point",
    "contact_name": "Contact name",
    "contact_email": "Contact email",
    "landing_page": "Landing page",
    "access_rights": "Licence and access rights",
    "provenance": "Provenance",
    "classification": "Classification of diagnoses",
    "data_freeze": "Data freeze",
    "version": "Version label",
    "_form": "Form",
}
LIST_FIELDS = ("trial_ids", "countries", "age_groups", "keywords", "diseases")
PROVENANCE_STEPS = list(ProvenanceStep)
FIELD_LABELS |= {
    f"provenance_{s.value}": f"Provenance: {PROVENANCE_LABELS[s]}" for s in ProvenanceStep
}


def _split(text: str | None) -> list[str]:
    """Comma-, semicolon- or line-separated values of a text input."""
    return [part.strip() for part in re.split(r"[,;\n]+", text or "") if part.strip()]


def _or_none(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


@dataclass
class DatasetForm:
    """A submitted dataset form: its values as typed, and the schema's input made of them."""

    values: MultiDict[str, str]
    new: bool
    errors: dict[str, list[str]] = field(default_factory=dict)
    provenance_sent: list[str] = field(default_factory=list)
    chosen_diseases: list[str] = field(default_factory=list)

    def diseases(self) -> list[str]:
        """The chosen diseases plus the one typed into the add field (a CURIE, a label or a
        synonym of the hierarchy; resolved here so that the form works without JavaScript)."""
        chosen = [c for c in self.values.getlist("diseases") if c.strip()]
        typed = (self.values.get("disease_add") or "").strip()
        if typed:
            try:
                chosen.append(
                    ontology.resolve_term(
                        actor(),
                        typed,
                        ontology=datasets.DISEASE_ONTOLOGY,
                        field="disease_add",
                        what="disease of the haematological-malignancy hierarchy",
                        example="NCIT:C3171",
                    )
                )
            except InvalidInput as exc:  # the form collects its errors to show them together
                for name, messages in (exc.errors or {}).items():
                    self.errors.setdefault(name, []).extend(messages)
        self.chosen_diseases = list(dict.fromkeys(chosen))
        return self.chosen_diseases

    def schema_input(self) -> dict[str, Any]:
        """The form as the API's JSON: empty fields are sent as "no value" (the form shows
        every field, so an emptied field clears it)."""
        v = self.values
        provenance = []
        for step in PROVENANCE_STEPS:
            date = (v.get(f"provenance_{step.value}") or "").strip()
            if date:
                provenance.append({"step": step.value, "date": date})
                self.provenance_sent.append(step.value)
        data: dict[str, Any] = {
            "title": (v.get("title") or "").strip(),
            "description": _or_none(v.get("description")),
            "diseases": self.diseases(),
            "source_type": _or_none(v.get("source_type")),
            "trial_ids": _split(v.get("trial_ids")),
            "countries": _split(v.get("countries")),
            "patients": _or_none(v.get("patients")),
            "records": _or_none(v.get("records")),
            "time_coverage": {
                "first_year": _or_none(v.get("first_year")),
                "last_year": _or_none(v.get("last_year")),
            },
            "age_groups": [g for g in v.getlist("age_groups") if g],
            "data_model": _or_none(v.get("data_model")),
            "keywords": _split(v.get("keywords")),
            "contact": {
                "name": _or_none(v.get("contact_name")),
                "email": _or_none(v.get("contact_email")),
            },
            "landing_page": _or_none(v.get("landing_page")),
            "access_rights": _or_none(v.get("access_rights")),
            "provenance": provenance,
            "classification": _or_none(v.get("classification")),
            "data_freeze": _or_none(v.get("data_freeze")),
            "version": _or_none(v.get("version")),
        }
        if self.new:
            if _or_none(v.get("identifier")):
                data["identifier"] = v["identifier"].strip()
            if _or_none(v.get("custodian")):
                data["custodian"] = v["custodian"].strip()
        return data

    def load(self) -> dict[str, Any]:
        """The service's input. :raises InvalidInput: with the form's field names."""
        raw = self.schema_input()
        data: dict[str, Any] = {}
        try:
            data = DatasetInputSchema().load(raw)
        except ValidationError as exc:
            self.add_errors(flatten_webargs_messages({"json": exc.messages}))
        if self.errors:
            raise InvalidInput(self.errors)
        return data

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = self.field_for(key)
            for message in messages:
                if message not in self.errors.get(name, []):
                    self.errors.setdefault(name, []).append(message)

    def field_for(self, key: str) -> str:
        """The form field an API error key (``contact.email``, ``trial_ids.1`` …) is about."""
        head, _, rest = key.partition(".")
        if head in LIST_FIELDS:
            return head
        if head == "time_coverage":
            return rest.split(".")[0] if rest else "time_coverage"
        if head == "contact":
            return f"contact_{rest.split('.')[0]}" if rest else "contact_email"
        if head == "provenance":
            index = rest.split(".")[0]
            if index.isdigit() and int(index) < len(self.provenance_sent):
                return f"provenance_{self.provenance_sent[int(index)]}"
            return "provenance"
        if head == "organisation_id":
            return "custodian"
        if head in FIELD_LABELS:
            return head
        return "_form"


def form_values(version: DatasetVersion) -> MultiDict[str, str]:
    """A version's fields as the form shows them."""
    values: MultiDict[str, str] = MultiDict()

    def put(name: str, value: Any) -> None:
        if value is not None:
            values[name] = value.value if hasattr(value, "value") else str(value)

    put("title", version.title)
    put("description", version.description)
    put("source_type", version.source_type)
    put("trial_ids", ", ".join(version.trial_ids or []))
    put("countries", ", ".join(version.countries or []))
    put("patients", version.patients)
    put("records", version.records)
    put("first_year", version.first_year)
    put("last_year", version.last_year)
    put("data_model", version.data_model)
    put("keywords", ", ".join(version.keywords or []))
    put("contact_name", version.contact_name)
    put("contact_email", version.contact_email)
    put("landing_page", version.landing_page)
    put("access_rights", version.access_rights)
    put("classification", version.classification)
    put("data_freeze", version.data_freeze.isoformat() if version.data_freeze else None)
    put("version", version.version)
    for group in version.age_groups or []:
        values.add("age_groups", group)
    for step in version.provenance or []:
        values[f"provenance_{step['step']}"] = step.get("date", "")
    for disease in version.diseases:
        values.add("diseases", disease.term_curie)
    return values


def _form_page(
    *,
    values: MultiDict[str, str],
    errors: dict[str, list[str]],
    dataset: Dataset | None,
    version: DatasetVersion | None,
    etag: str | None,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    who = actor()
    chosen = [c for c in values.getlist("diseases") if c]
    labels = terms_by_curie(chosen)
    organisations = _custodian_organisations(who) if dataset is None else []
    return render_template(
        "datasets/dataset_form.html",
        values=values,
        errors=errors,
        dataset=dataset,
        version=version,
        etag=etag,
        notice=notice,
        diseases=[(c, labels[c].label if c in labels else c) for c in chosen],
        organisations=organisations,
        choose_custodian=dataset is None and (is_admin(who) or len(organisations) > 1),
        field_labels=FIELD_LABELS,
        source_types=list(SourceType),
        data_models=list(DataModel),
        classifications=list(Classification),
        age_groups=list(AgeGroup),
        provenance_steps=PROVENANCE_STEPS,
        disease_ontology=datasets.DISEASE_ONTOLOGY,
        year_limits=(latest_first_year(), latest_last_year()),
    ), status


@bp.route("/datasets/new", methods=["GET", "POST"])
def new_dataset() -> Any:
    who = actor()
    require_login(who)
    require(who, Permission.DATASET_CREATE)
    if request.method == "GET":
        return _form_page(values=MultiDict(), errors={}, dataset=None, version=None, etag=None)
    form = DatasetForm(request.form.copy(), new=True)
    try:
        created = datasets.create_dataset(who, form.load())
    except InvalidInput as exc:
        form.add_errors(exc.errors or {"_form": [exc.detail]})
        return _form_page(
            values=_resubmitted(form), errors=form.errors, dataset=None, version=None,
            etag=None, status=422,
        )  # fmt: skip
    flash(
        f"“{created.versions[-1].title}” is registered as a draft. Only your organisation's "
        "custodians and the administrators see it until you publish it.",
        "success",
    )
    return redirect(url_for("datasets.dataset", identifier=created.identifier))


def _resubmitted(form: DatasetForm) -> MultiDict[str, str]:
    """What the form shows again after an error: what was typed; a disease typed into the add
    field and resolved joins the chips, one that was not stays in the field."""
    values = form.values.copy()
    if "disease_add" not in form.errors and values.get("disease_add"):
        values.setlist("diseases", form.chosen_diseases)
        values.pop("disease_add")
    return values


@bp.route("/datasets/<identifier>/edit", methods=["GET", "POST"])
def edit_dataset(identifier: str) -> Any:
    who = actor()
    require_login(who)
    dataset = datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
    draft = open_draft_or_none(dataset)
    if draft is None:
        return closed_page(dataset, "metadata")
    if request.method == "GET":
        return _form_page(
            values=form_values(draft), errors={}, dataset=dataset, version=draft,
            etag=datasets.etag(dataset),
        )  # fmt: skip
    form = DatasetForm(request.form.copy(), new=False)
    sent_etag = request.form.get("revision") or None
    try:
        datasets.update_dataset(who, identifier, form.load(), sent_etag)
    except InvalidInput as exc:
        form.add_errors(exc.errors or {"_form": [exc.detail]})
        return _form_page(
            values=_resubmitted(form), errors=form.errors, dataset=dataset, version=draft,
            etag=sent_etag, status=422,
        )  # fmt: skip
    except PreconditionFailed:
        # Show what was typed with the current ETag: saving again overwrites the other change
        # knowingly (the message says so), never silently.
        current = datasets.get_dataset(who, identifier)
        changed = last_changes([current.id]).get(current.id)
        notice = STALE_FORM
        if changed is not None:
            notice = (
                f"{person_name(changed.actor_label)} changed this dataset at "
                f"{changed.at:%H:%M} UTC after you opened this form ({changed.summary}) — "
                "nothing was saved. Check their change on the dataset's page; saving this "
                "form again replaces it with what you see below."
            )
        return _form_page(
            values=_resubmitted(form), errors={}, dataset=current, version=draft,
            etag=datasets.etag(current), status=412, notice=notice,
        )  # fmt: skip
    flash("Saved.", "success")
    return redirect(url_for("datasets.dataset", identifier=identifier))


# --- lifecycle actions ----------------------------------------------------------------------


def revision_field() -> str | None:
    return request.form.get("revision") or None


def _page_of(identifier: str) -> str:
    return url_for("datasets.dataset", identifier=identifier)


@bp.post("/datasets/<identifier>/publish")
def publish_dataset(identifier: str) -> WerkzeugResponse:
    return form_action(
        lambda who: datasets.publish(who, identifier, revision_field()),
        success=lambda version: f"Version {version.number} is published: everyone can see it now.",
        done=_page_of(identifier),
        back=_page_of(identifier),
        stale=STALE_FORM,
        invalid="Not published yet.",
    )


@bp.post("/datasets/<identifier>/new-version")
def open_new_version(identifier: str) -> WerkzeugResponse:
    return form_action(
        lambda who: datasets.new_version(who, identifier, revision_field()),
        success=lambda version: (
            f"Version {version.number} is open as a draft (a copy of the published version, "
            "variables and mappings included). Change it, then publish it; until then everyone "
            "else keeps seeing the published version."
        ),
        done=url_for("datasets.edit_dataset", identifier=identifier),
        back=_page_of(identifier),
        stale=STALE_FORM,
    )


@bp.post("/datasets/<identifier>/retire")
def retire_dataset(identifier: str) -> WerkzeugResponse:
    note = (request.form.get("note") or "").strip()[:2000] or None
    return form_action(
        lambda who: datasets.retire(who, identifier, note, revision_field()),
        success="The dataset is retired. Its page stays available with a notice.",
        done=_page_of(identifier),
        back=_page_of(identifier),
        stale=STALE_FORM,
    )


@bp.post("/datasets/<identifier>/delete")
def delete_dataset(identifier: str) -> WerkzeugResponse:
    def delete(who: Actor) -> str:
        title = datasets.get_dataset(who, identifier).versions[-1].title
        datasets.delete_draft(who, identifier, revision_field())
        return title

    return form_action(
        delete,
        success=lambda title: f"The draft “{title}” is deleted.",
        done=url_for("datasets.my_datasets"),
        back=_page_of(identifier),
        stale=STALE_FORM,
    )


# --- shared by the pages that change a draft (mappings, dictionary) ---


def closed_page(dataset: Dataset, what: str) -> tuple[str, int]:
    """Why a change page has nothing to change: no open draft, or the dataset is retired."""
    flow = workflow.get(datasets.LIFECYCLE)
    return render_template(
        "datasets/edit_closed.html",
        dataset=dataset,
        version=dataset.versions[-1],
        etag=datasets.etag(dataset),
        what=what,
        actions=available_actions(flow, actor(), dataset),
        refusal=flow.refusals.get((flow.state_of(dataset), "edit"), ""),
    ), 409


def open_draft_or_none(dataset: Dataset) -> DatasetVersion | None:
    """The open draft when the lifecycle allows changing it now (its ``edit`` row), else None
    (the page then shows :func:`closed_page`)."""
    flow = workflow.get(datasets.LIFECYCLE)
    if flow.row(flow.state_of(dataset), "edit") is None:
        return None
    return datasets.open_draft(dataset)
