"""Request and response bodies of the patients API (the public contract in /openapi.json)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from server import clock
from server.errors import NOT_NULL, FieldCode
from server.instants import Day
from server.readonly import ReadOnly, non_null_in_schema, read_only_fields
from server.textguard import Printable

Gender = Literal["female", "male", "other", "undisclosed"]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]  # E.164
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Printable]


DATE_IN_FUTURE = FieldCode("date_in_future", "must not be in the future")
DATE_TOO_OLD = FieldCode("date_before_1900", "must be after 1900-01-01")


def _past_date(value: date) -> date:
    if value > clock.now().date():
        raise DATE_IN_FUTURE.error()
    if value < date(1900, 1, 1):
        raise DATE_TOO_OLD.error()
    return value


PastDate = Annotated[Day, AfterValidator(_past_date)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: Line = ""
    line2: Line = ""
    city: Line = ""
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), Printable] = (
        ""
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "FR"


class Insurance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Line = ""
    policy_number: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=64), Printable
    ] = ""
    social_security_number: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=32), Printable
    ] = ""


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID | None = Field(
        None, description="Admins only: the patient account the profile belongs to."
    )
    first_name: Name
    last_name: Name
    date_of_birth: PastDate | None = None
    gender: Gender | None = None
    phone: Phone | None = None
    address: Address = Field(default_factory=Address)
    insurance_info: Insurance = Field(default_factory=Insurance)


# Fields a PUT may set to null; the others, when present, need a value.
NULLABLE_FIELDS = frozenset({"date_of_birth", "gender", "phone"})


class PatientUpdate(BaseModel):
    """Partial update: fields left out keep their value; address / insurance are replaced whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=non_null_in_schema(NULLABLE_FIELDS))

    id: ReadOnly
    user_id: ReadOnly
    created_at: ReadOnly
    updated_at: ReadOnly
    first_name: Name | None = None
    last_name: Name | None = None
    date_of_birth: PastDate | None = None
    gender: Gender | None = None
    phone: Phone | None = None
    address: Address | None = None
    insurance_info: Insurance | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PatientUpdate:
        editable = self.model_fields_set - NULLABLE_FIELDS - read_only_fields(PatientUpdate)
        nulls = [n for n in editable if getattr(self, n) is None]
        if nulls:
            raise NOT_NULL.error(fields=", ".join(sorted(nulls)))
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set - read_only_fields(PatientUpdate))


class PatientOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: Gender | None
    phone: str | None
    address: dict[str, Any]
    insurance_info: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class MedicalHistoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), Printable
    ]
    diagnosis_date: PastDate | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000), Printable] | None = None


class MedicalHistoryOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    condition: str
    diagnosis_date: date | None
    notes: str | None
    created_by: uuid.UUID | None
    created_at: datetime


class MedicalHistoryPage(BaseModel):
    items: list[MedicalHistoryOut]
    total: int
    limit: int
    offset: int


class FavoriteDoctor(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    specializations: list[str]
    city: str
    profile_image_url: str | None
    rating: float
    total_reviews: int
    favorited_at: datetime


# Family and proxy booking (issue #24). What the relative is to the proxy: FHIR RelatedPerson
# relationship codes from v3-RoleCode (child, son, daughter, step child, father, mother, parent,
# grandparent, grandchild, sibling, spouse, husband, wife, domestic partner, family member,
# guardian, next of kin); migration 0023 checks the same list.
Relationship = Literal[
    "CHILD",
    "SON",
    "DAU",
    "STPCHLD",
    "FTH",
    "MTH",
    "PRN",
    "GRPRN",
    "GRNDCHILD",
    "SIB",
    "SPS",
    "HUSB",
    "WIFE",
    "DOMPART",
    "FAMMEMB",
    "GUARD",
    "NOK",
]
# `self`: the adult relative agreed to be managed; `legal_guardian`: the proxy is a minor's.
ConsentBasis = Literal["self", "legal_guardian"]
ADULT_AGE = 18

CONSENT_REQUIRED = FieldCode("consent_required", "the relative's consent must be given")
GUARDIAN_FOR_MINORS = FieldCode(
    "guardian_for_minors_only", "a legal guardian consents for a minor only (under 18)"
)
MINOR_NEEDS_GUARDIAN = FieldCode(
    "minor_needs_guardian", "a minor's consent is given by their legal guardian"
)
CONSENT_WITHDRAWN_BY_REMOVAL = FieldCode(
    "consent_withdrawn_by_removal",
    "consent cannot be un-given by an edit; remove the relative to withdraw it",
)


def _age(born: date) -> int:
    today = clock.now().date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def consent_misfit(basis: ConsentBasis, born: date | None) -> FieldCode | None:
    """A minor is booked for under their guardian's consent, an adult under their own: the
    field code when `basis` does not fit the age, None when it does (or the age is unknown)."""
    if born is None:
        return None
    minor = _age(born) < ADULT_AGE
    if basis == "legal_guardian" and not minor:
        return GUARDIAN_FOR_MINORS
    if basis == "self" and minor:
        return MINOR_NEEDS_GUARDIAN
    return None


class RelativeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name
    last_name: Name
    date_of_birth: PastDate | None = None
    gender: Gender | None = None
    relationship: Relationship = Field(description="What the relative is to you (v3-RoleCode).")
    consent_basis: ConsentBasis = Field(
        description="`self`: the adult relative agreed; `legal_guardian`: you are the minor's."
    )
    # Strict: the box is ticked (true), never a string or number taken for it.
    consent_given: StrictBool = Field(description="Must be true: the consent was given, now.")
    can_view_history: bool = Field(
        False, description="The relative lets you see their medical history."
    )

    # Field validators (not one model validator), so each error names its field, as PUT does.
    @field_validator("consent_basis")
    @classmethod
    def _fits_the_age(cls, basis: ConsentBasis, info: ValidationInfo) -> ConsentBasis:
        misfit = consent_misfit(basis, info.data.get("date_of_birth"))
        if misfit is not None:
            raise misfit.error()
        return basis

    @field_validator("consent_given")
    @classmethod
    def _consented(cls, given: bool) -> bool:
        if not given:
            raise CONSENT_REQUIRED.error()
        return given


class RelativeUpdate(BaseModel):
    """Omitted fields are kept; a new consent basis needs consent_given true again. Consent
    is withdrawn by removing the relative (DELETE), so `consent_given: false` is a 422."""

    model_config = ConfigDict(extra="forbid")

    first_name: Name | None = None
    last_name: Name | None = None
    date_of_birth: PastDate | None = None
    gender: Gender | None = None
    relationship: Relationship | None = None
    consent_basis: ConsentBasis | None = None
    consent_given: StrictBool | None = Field(None, validate_default=True)
    can_view_history: bool | None = None

    @field_validator("consent_given")
    @classmethod
    def _reconsented(cls, given: bool | None, info: ValidationInfo) -> bool | None:
        if info.data.get("consent_basis") is not None and given is not True:
            raise CONSENT_REQUIRED.error()
        if given is False:
            # Not a silent no-op: the link (and the consent on record) goes with DELETE.
            raise CONSENT_WITHDRAWN_BY_REMOVAL.error()
        return given


class Consent(BaseModel):
    basis: ConsentBasis
    at: datetime
    by: uuid.UUID = Field(description="The user who recorded it.")


class RelativeOut(BaseModel):
    id: uuid.UUID = Field(description="The relative's patient id (book with it as patient_id).")
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: Gender | None
    relationship: Relationship
    consent: Consent
    can_view_history: bool
    has_own_login: bool
    linked_at: datetime


class UpcomingAppointment(BaseModel):
    """An item of the 409 `relative-has-upcoming-appointments` problem's `appointments`."""

    id: uuid.UUID
    start: datetime = Field(description="With the practice's UTC offset, as appointments.")
    end: datetime
    status: Literal["held", "scheduled", "confirmed"]
    visit_type: str
    doctor_id: uuid.UUID
    doctor_name: str = Field(description='"Dr First Last"')
    time_zone: str = Field(description="The practice's IANA zone (its clock, as appointments).")
