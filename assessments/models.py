"""Assessment session models arrive with the assessments issue (DESIGN.md, assessments)."""
