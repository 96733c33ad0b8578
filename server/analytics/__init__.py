"""Analytics: bookings, outcomes, revenue, busiest specialties and cities, lead time, connected
clients; platform-wide for admins, a doctor's own figures on their dashboard."""
