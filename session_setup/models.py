"""Session set-up wizard models arrive with the session-setup issue (DESIGN.md, session_setup)."""
