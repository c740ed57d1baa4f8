"""Shapes of the accounts API: separate input, query and output schemas (flask-smorest style)."""

from __future__ import annotations

import re
from typing import Any

import pycountry
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates

from core.inputs import bound_integer_field
from core.models import OrganisationKind, Role

ROR_PATTERN = re.compile(r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$")


def normalise_country(value: str) -> str:
    """``value`` as an ISO 3166-1 alpha-2 code (upper case). :raises ValidationError: naming
    the value, so that in a list of countries the wrong one is found at once."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            f"“{value.strip()}” is not an ISO 3166-1 alpha-2 country code: use two letters "
            "such as DE, FR or NL."
        )
    return code


class Country(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalise_country(super()._deserialize(value, attr, data, **kwargs))


class RorId(fields.String):
    """A ROR identifier, given bare (``04dkp9463``) or as its URL; stored bare."""

    def _deserialize(  # type: ignore[override]  # empty means "no ROR id"
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            return None
        text = re.sub(r"^https?://ror\.org/", "", text, flags=re.IGNORECASE).lower()
        if not ROR_PATTERN.match(text):
            raise ValidationError(
                "Not a ROR id (nine characters such as 04dkp9463, or its ror.org URL)."
            )
        return text


class _NotABoolean:
    """Stands in for a number sent to a yes/no field, so that the field itself refuses it
    (with the other fields' errors) instead of marshmallow reading 1 as true."""

    def __repr__(self) -> str:
        return "a number"


NOT_A_BOOLEAN = _NotABoolean()
NOT_AN_ID = "Give an id, not an empty text."


class StrictSchema(Schema):
    """Inputs reject unknown fields (marshmallow's default), and strip surrounding spaces.

    Integer fields hold what an INTEGER column can (see core.inputs), and an id given as an
    empty string (``organisation_id: ""``, what an HTML form sends for "none") means no id:
    None where the field allows it, absent where it is optional, else an error; it never
    reaches a foreign key as "". A yes/no field takes ``true``/``false`` (or a form's text),
    never a number: marshmallow would read ``0`` and ``1`` as booleans, which JSON says
    they are not.

    Every error of an input comes in one answer. Marshmallow runs a schema's cross-field checks
    (``@validates_schema``) only once every field is valid, and an error raised while preparing
    the input (``@pre_load``) stops everything else: a form would then show its errors in
    stages ("the first year comes after the last" only once the title is long enough). Here the
    cross-field checks always run, beside the fields' errors, and the preparation never
    raises: the fields refuse what it marks. So a cross-field check must read the fields with
    ``data.get(...)``: a field that failed is not in ``data``.
    """

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        bound_integer_field(field_obj)
        # new containers, not changes in place: a schema's fields are shallow copies of the
        # class's, sharing these with every other instance
        if isinstance(field_obj, fields.Boolean):
            field_obj.error_messages = {
                **field_obj.error_messages,
                "invalid": "Not a valid boolean: give true or false.",
            }
        if (
            field_name.endswith("_id")
            and isinstance(field_obj, fields.String)
            and field_obj.required
            and not field_obj.allow_none
        ):
            field_obj.validators = [*field_obj.validators, validate.Length(min=1, error=NOT_AN_ID)]

    def _invoke_schema_validators(self, **kwargs: Any) -> None:
        """Cross-field checks run even when some fields failed (see the class docstring)."""
        kwargs["field_errors"] = False
        super()._invoke_schema_validators(**kwargs)

    @pre_load
    def _strip(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        stripped = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        for key, value in list(stripped.items()):
            field = self.fields.get(key)
            if (
                isinstance(field, fields.Boolean)
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                stripped[key] = NOT_A_BOOLEAN  # refused by the field, with the others
            if value == "" and key.endswith("_id") and isinstance(field, fields.String):
                if field.allow_none:
                    stripped[key] = None
                elif not field.required:
                    del stripped[key]
                # a required id left empty: its field refuses it (NOT_AN_ID)
        return stripped


class PageQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))
    sort = fields.String(load_default=None)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=name,
    )


# --- organisations --------------------------------------------------------------------------


class OrganisationBriefSchema(Schema):
    id = fields.String()
    name = fields.String()


class OrganisationSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String()
    country = fields.String()
    kind = fields.Enum(OrganisationKind, by_value=True)
    city = fields.String(allow_none=True)
    ror_id = fields.String(allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class OrganisationInputSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    country = Country(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=200))
    ror_id = RorId(allow_none=True)


class OrganisationUpdateSchema(OrganisationInputSchema):
    """Any subset of the fields of :class:`OrganisationInputSchema`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class OrganisationQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(max=200))
    country = fields.String(validate=validate.Length(equal=2))
    kind = fields.String(validate=validate.OneOf([k.value for k in OrganisationKind]))


OrganisationPageSchema = page_schema(OrganisationSchema, "OrganisationPage")


# --- committees -----------------------------------------------------------------------------


class CommitteeSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String()
    description = fields.String()
    quorum = fields.Integer(allow_none=True)
    is_default = fields.Boolean()
    created_at = fields.DateTime(dump_only=True)
    members = fields.Method("_members", dump_only=True)

    def _members(self, committee: Any) -> list[dict[str, str]]:
        return [
            {"user_id": g.user_id, "name": g.user.name, "role": g.role.value}
            for g in committee.grants
        ]


class CommitteeInputSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    quorum = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Votes a decision needs; none: a majority of non-recused members"},
    )
    is_default = fields.Boolean(
        metadata={
            "description": "Reviews requests for datasets assigned to no other committee "
            "(one default committee: setting it unsets the previous one)"
        }
    )


class CommitteeUpdateSchema(CommitteeInputSchema):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


# --- users and roles ------------------------------------------------------------------------


class RoleGrantSchema(Schema):
    id = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Nested(OrganisationBriefSchema, allow_none=True)
    committee = fields.Nested(OrganisationBriefSchema, allow_none=True)
    granted_at = fields.DateTime()


class RoleGrantInputSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    organisation_id = fields.String(load_default=None, allow_none=True)
    committee_id = fields.String(load_default=None, allow_none=True)


class UserSchema(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String()
    organisation = fields.Nested(OrganisationBriefSchema, allow_none=True)
    is_active = fields.Boolean()
    roles = fields.List(fields.Nested(RoleGrantSchema), attribute="grants")
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organisation_id = fields.String(load_default=None, allow_none=True)
    password = fields.String(load_only=True, load_default=None, allow_none=True)
    roles = fields.List(fields.Nested(RoleGrantInputSchema), load_default=list)

    @post_load
    def _lower_email(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["email"] = data["email"].lower()
        return data


class UserUpdateSchema(StrictSchema):
    email = fields.Email(validate=validate.Length(max=320))
    name = fields.String(validate=validate.Length(min=1, max=200))
    organisation_id = fields.String(allow_none=True)
    is_active = fields.Boolean()


class UserQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    organisation_id = fields.String()
    active = fields.Boolean()


UserPageSchema = page_schema(UserSchema, "UserPage")


class PasswordSetSchema(StrictSchema):
    password = fields.String(required=True, load_only=True)


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True)


# --- tokens and sessions --------------------------------------------------------------------


class TokenSchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise the token"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret. Shown this once only."})


class TokenInputSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    days = fields.Integer(load_default=None, allow_none=True)

    @validates("days")
    def _days(self, value: int | None, **kwargs: Any) -> None:
        if value is not None and value < 1:
            raise ValidationError("A token lives at least one day.")


class SessionSchema(Schema):
    id = fields.String()
    created_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    expires_at = fields.DateTime()
    ip_address = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean()


class RevokedCountSchema(Schema):
    revoked = fields.Integer()


class VersionSchema(Schema):
    name = fields.String()
    version = fields.String()
    api = fields.String()
    environment = fields.String()
