"""GDPR self-service export (Art. 15 and 20): a patient downloads all their data."""
