"""Notifications: email (SMTP), SMS (Twilio) and the in-app bell, driven by bus events.

- consumer.py: the durable "notifications" consumer (appointment.*, payment.*,
  doctor.availability.updated) queues messages (appointments.py, payments.py, availability.py)
  through notifier.py, in the transaction that records the event as handled.
- reminders.py: reminders planned per appointment, claimed with FOR UPDATE SKIP LOCKED.
- delivery.py: sends queued messages (providers.py) and the auth outbox (outbox.py), recording
  attempts, provider ids and back-off in notify.messages (the delivery log).
- ports.py: in-app notifications reach open sockets after their transaction commits.
- inbound.py: two-way SMS (the Twilio webhook in routes.py); otp.py: sign-in codes.
- templating.py + templates/: Jinja2 texts per kind in English and French; calendar.py: .ics.
- render.py: auth messages whose secret (a reset link) is rendered only at send time.
- workers.py: the node's tasks, started by server/app.py with the live port.
"""
