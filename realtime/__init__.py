"""Live channels over Socket.IO (availability, agenda, notifications, chat)."""
