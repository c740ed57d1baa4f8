"""Every permission of the service, named ``<area>:<resource>:<action>``.

Each area's ``policies.py`` registers who holds each one; a permission without a rule is denied.
"""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # core
    ADMIN_CONSOLE = "core:admin_console:view"
    ORGANISATION_READ = "core:organisation:read"
    ORGANISATION_CREATE = "core:organisation:create"
    ORGANISATION_UPDATE = "core:organisation:update"
    USER_LIST = "core:user:list"
    USER_READ = "core:user:read"
    USER_CREATE = "core:user:create"
    USER_UPDATE = "core:user:update"
    ROLE_GRANT = "core:role:grant"
    ROLE_REVOKE = "core:role:revoke"
    COMMITTEE_READ = "core:committee:read"
    COMMITTEE_CREATE = "core:committee:create"
    COMMITTEE_UPDATE = "core:committee:update"
    TOKEN_MANAGE = "core:token:manage"  # noqa: S105 - a permission name, not a secret
    SESSION_MANAGE = "core:session:manage"
    PASSWORD_CHANGE = "core:password:change"  # noqa: S105 - a permission name
    AUDIT_READ = "core:audit:read"  # browse and export the audit trail
    NOTIFICATION_MANAGE = "core:notification:manage"  # one's own notifications: list, mark read
    # ontologies
    ONTOLOGY_READ = "ontologies:ontology:read"
    ONTOLOGY_LOAD = "ontologies:ontology:load"
    # catalogue
    DATASET_READ = "catalogue:dataset:read"  # obj: the dataset
    DATASET_READ_DRAFT = "catalogue:dataset:read_draft"  # a draft version (obj: the dataset)
    DATASET_CREATE = "catalogue:dataset:create"  # obj: the organisation id, or None to ask
    DATASET_UPDATE = "catalogue:dataset:update"  # edit, import, map, publish, retire, delete
    STANDARD_SET_MANAGE = "catalogue:standard_set:manage"  # create, edit, retire sets
    EXACT_COUNTS = "catalogue:counts:exact"  # see computed counts below the small-cell threshold
    SEARCH_REINDEX = "catalogue:search:reindex"  # rebuild the search index (a job)
    SELECTION_MANAGE = "catalogue:selection:manage"  # one's own selection of datasets
    # governance
    DATA_USE_UPDATE = "governance:data_use:update"  # obj: the dataset
    DATA_USE_CHECK = "governance:data_use:check"  # run the compatibility check
    AGREEMENT_READ = "governance:agreement:read"  # that an agreement exists, its obligations
    AGREEMENT_READ_FULL = "governance:agreement:read_full"  # all of it and its document
    AGREEMENT_MANAGE = "governance:agreement:manage"  # create, edit, activate, amend, terminate
    PURPOSE_MANAGE = "governance:purpose:manage"  # one's own saved research purposes
    # access requests (obj: the request unless said otherwise)
    ACCESS_REQUEST_CREATE = "governance:access_request:create"  # obj: None
    ACCESS_REQUEST_READ = "governance:access_request:read"  # see it (404 otherwise)
    ACCESS_REQUEST_APPLY = "governance:access_request:apply"  # edit, submit, withdraw, amend
    ACCESS_REQUEST_SIGNOFF = "governance:access_request:signoff"  # obj: a RequestDataset
    ACCESS_REQUEST_VOTE = "governance:access_request:vote"
    ACCESS_REQUEST_DECIDE = "governance:access_request:decide"  # decide, override
    ACCESS_REQUEST_REVIEW = "governance:access_request:review"  # the queue, dashboard; obj: None
    ACCESS_REQUEST_CLOSE = "governance:access_request:close"  # the system, when access ended
    REPORT_SUBMIT = "governance:report:submit"  # reports and publications on a request
    ENTITLEMENT_READ = "governance:entitlement:read"  # obj: the user whose entitlements
    ENTITLEMENT_QUERY = "governance:entitlement:query"  # any user's (data platforms); obj: None
    ENTITLEMENT_REVOKE = "governance:entitlement:revoke"  # obj: the entitlement
    ENTITLEMENT_ACCEPT = "governance:entitlement:accept"  # accept the terms; obj: the request
    VISA_READ = "governance:visa:read"  # obj: the user whose visas


#: what each permission lets someone do, in words a refusal can show ("Your roles do not
#: allow you to <words>."): people read these, not the codes
WORDS: dict[Permission, str] = {
    Permission.ADMIN_CONSOLE: "open the administration pages",
    Permission.ORGANISATION_READ: "see this organisation",
    Permission.ORGANISATION_CREATE: "register organisations",
    Permission.ORGANISATION_UPDATE: "change organisations",
    Permission.USER_LIST: "list the users",
    Permission.USER_READ: "see this account",
    Permission.USER_CREATE: "create accounts",
    Permission.USER_UPDATE: "change accounts",
    Permission.ROLE_GRANT: "grant roles",
    Permission.ROLE_REVOKE: "revoke roles",
    Permission.COMMITTEE_READ: "see the committees",
    Permission.COMMITTEE_CREATE: "create committees",
    Permission.COMMITTEE_UPDATE: "change committees or which committee reviews a dataset",
    Permission.TOKEN_MANAGE: "manage these API tokens",
    Permission.SESSION_MANAGE: "manage these sessions",
    Permission.PASSWORD_CHANGE: "change this password",
    Permission.AUDIT_READ: "read the audit trail",
    Permission.NOTIFICATION_MANAGE: "read these notifications",
    Permission.ONTOLOGY_READ: "see the ontologies",
    Permission.ONTOLOGY_LOAD: "load ontologies",
    Permission.DATASET_READ: "see this dataset",
    Permission.DATASET_READ_DRAFT: "see this dataset's draft",
    Permission.DATASET_CREATE: "register datasets (custodians do)",
    Permission.DATASET_UPDATE: "change this dataset (its custodians do)",
    Permission.STANDARD_SET_MANAGE: "manage standard variable sets",
    Permission.EXACT_COUNTS: "see counts below the small-cell threshold",
    Permission.SEARCH_REINDEX: "rebuild the search index",
    Permission.SELECTION_MANAGE: "change this selection",
    Permission.DATA_USE_UPDATE: "set this dataset's data-use conditions (its custodians do)",
    Permission.DATA_USE_CHECK: "run the compatibility check",
    Permission.AGREEMENT_READ: "see this agreement",
    Permission.AGREEMENT_READ_FULL: "read this agreement in full (its custodians do)",
    Permission.AGREEMENT_MANAGE: "manage this agreement (its organisation's custodians do)",
    Permission.PURPOSE_MANAGE: "manage these research purposes",
    Permission.ACCESS_REQUEST_CREATE: "apply for access (researchers do)",
    Permission.ACCESS_REQUEST_READ: "see this access request",
    Permission.ACCESS_REQUEST_APPLY: "change, submit or withdraw this request (its applicant does)",
    Permission.ACCESS_REQUEST_SIGNOFF: "sign off this dataset (its organisation's custodians do)",
    Permission.ACCESS_REQUEST_VOTE: "vote on this request (its committee's members do)",
    Permission.ACCESS_REQUEST_DECIDE: "decide this request (its committee's chair does)",
    Permission.ACCESS_REQUEST_REVIEW: "review access requests (committee members do)",
    Permission.ACCESS_REQUEST_CLOSE: "close requests (the system does, when access has ended)",
    Permission.REPORT_SUBMIT: "report on this request (its team does)",
    Permission.ENTITLEMENT_READ: "see these entitlements",
    Permission.ENTITLEMENT_QUERY: "ask about other people's access (data platforms do)",
    Permission.ENTITLEMENT_REVOKE: "revoke this access (the committee's chair or an "
    "administrator does)",
    Permission.ENTITLEMENT_ACCEPT: "accept these terms (the request's team does)",
    Permission.VISA_READ: "see these visas",
}


def words(permission: Permission) -> str:
    """What ``permission`` lets someone do, in words."""
    return WORDS.get(permission) or permission.value.split(":")[-1].replace("_", " ")
