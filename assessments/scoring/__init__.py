"""The scoring engine: Learnosity's scoring of a response, per question type and scoring rule, and a session's
totals and subscores from its responses. Pure functions over plain dicts (a question's JSON as
``sessions/templates`` sends it, a response object ``{"value": …}``): no database, no Django.

``score_response(question, response)`` → ``Score(score, max_score, attempted, automarkable)``;
``session_totals(responses, subscore_definitions)`` → ``Totals``. See ``rules`` for the arithmetic.
"""

from assessments.scoring.rules import MANUAL_TYPES, SUPPORTED_TYPES, Score, max_score_of, score_response
from assessments.scoring.totals import ResponseScore, Totals, session_totals

__all__ = [
    "MANUAL_TYPES", "SUPPORTED_TYPES", "ResponseScore", "Score", "Totals", "max_score_of", "score_response",
    "session_totals",
]
