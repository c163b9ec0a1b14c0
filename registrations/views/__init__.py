"""Staff pages, one module per page family: ``sessions`` (list, forms, detail, progress panel), ``codes``
(generate, revoke, slips, CSV), ``progress`` (the district-wide page) and ``review`` (the review queue)."""
