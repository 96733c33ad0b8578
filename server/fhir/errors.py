"""Refusals of the FHIR read API (rendered as OperationOutcome, server/fhir/routes.py)."""

from __future__ import annotations

from server.errors import FieldCode, Reason

NO_SUCH_RESOURCE = Reason("no-such-resource", "No such {kind}.")
SLOT_NOT_OFFERED = Reason("slot-not-offered", "No such Slot (taken, past or never offered).")
BAD_SEARCH = Reason("bad-search-parameter", "Search parameter `{field}` is not valid.")
NOT_A_DATE = FieldCode("not_a_date", "not a date")
EMPTY_RANGE = FieldCode("empty_range", "the range is empty")
WINDOW_TOO_LONG = FieldCode("window_too_long", "at most {days} days at a time")
UNKNOWN_STATUS = FieldCode("unknown_status_code", "unknown code {code}")
PRACTITIONER_OR_PATIENT = FieldCode("practitioner_or_patient", "give practitioner or patient")
PATIENT_TO_SEARCH = FieldCode("patient_to_search", "give the patient")
