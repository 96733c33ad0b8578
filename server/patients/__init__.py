"""Patients: profiles, field-encrypted medical history, favorite doctors, GDPR erasure."""
