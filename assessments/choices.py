"""Vocabularies of the assessments app (Learnosity's own values, as the Data API sends them)."""

from django.db import models


class SessionStatus(models.TextChoices):
    INCOMPLETE = "Incomplete", "Incomplete"
    COMPLETED = "Completed", "Completed"
    DISCARDED = "Discarded", "Discarded"
    PENDING_SCORING = "Pending Scoring", "Pending scoring"


class ItemScoringType(models.TextChoices):
    PER_QUESTION = "per-question", "Per question"
    DICHOTOMOUS = "dichotomous", "Dichotomous (all or nothing)"
    DEPENDENT = "dependent", "Dependent"


class QuestionType(models.TextChoices):
    MCQ = "mcq", "Multiple choice"
    CLOZETEXT = "clozetext", "Cloze text"
    SHORTTEXT = "shorttext", "Short text"
    ORDERLIST = "orderlist", "Order list"
    ASSOCIATION = "association", "Match list (association)"
    LONGTEXTV2 = "longtextV2", "Essay (rich text)"
    LONGTEXT = "longtext", "Essay"
    PLAINTEXT = "plaintext", "Essay (plain text)"
    CHOICEMATRIX = "choicematrix", "Choice matrix"
    CLOZEINLINETEXT = "clozeinlinetext", "Cloze inline text"
    FORMULAV2 = "formulaV2", "Formula"
    GRIDDED = "gridded", "Gridded"
    IMAGECLOZEASSOCIATION = "imageclozeassociation", "Image cloze association"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    HALTED = "halted", "Halted"
    COMPLETED = "completed", "Completed"
