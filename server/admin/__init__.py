"""Admin domain: user administration, the doctor verification queue, audit chain checks and
system health, built on the owning domains' services."""
