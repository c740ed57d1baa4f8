"""What a data-dictionary reader produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalogue.models import ValueType


@dataclass
class PermissibleValue:
    code: str
    label: str
    term: str | None = None  # a CURIE, when the value is mapped


@dataclass
class VariableRecord:
    name: str
    label: str
    value_type: ValueType
    row: int  # 1-based line of the file (the header is line 1)
    description: str | None = None
    form: str | None = None
    section: str | None = None
    time_point: str | None = None
    unit: str | None = None
    permissible_values: list[PermissibleValue] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)
    minimum: str | None = None
    maximum: str | None = None
    multiple: bool = False  # several values may be chosen (REDCap checkboxes)
    source_type: str | None = None  # the field type as the source names it
    mappings: list[str] = field(default_factory=list)  # CURIEs that arrive already mapped


@dataclass(frozen=True)
class Problem:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column “{self.column}”" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class DictionaryReading:
    variables: list[VariableRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # skipped rows and other remarks
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems
