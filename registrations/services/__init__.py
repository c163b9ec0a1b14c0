"""Every write to registration data, one module per family: ``sessions``, ``codes``, ``submissions`` (a
submission's status), ``participation`` (the participant's side), ``review`` and ``roster_import``.

Keyword-only, atomic, permission-checked; the API, the staff pages, the public pages, admin, tasks and
commands all call them. Import from the modules themselves.
"""
