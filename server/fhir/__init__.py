"""FHIR R4 read API under /fhir/R4: Practitioner, Patient, Schedule, Slot, Appointment and the
CapabilityStatement, built on the domains' services (same authorization, audited)."""
