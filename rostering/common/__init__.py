"""The ground floor that every app shares (rostering is the bottom of the house, so it lives here).

- ``jsonio``: the one bounded decoder for JSON from outside (bodies, JSON form fields, JSON query
  parameters), and the size validator of every JSON model field.
- ``parsers``: DRF's JSON parser, built on that decoder, with a size limit per view.
- ``patterns``: user-supplied regular expressions, compiled and matched by RE2 (linear time).
"""
