"""Private, revocable iCalendar feeds (RFC 5545): a doctor's agenda, a patient's appointments."""
