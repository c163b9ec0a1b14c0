"""The Data API's routing table: endpoint → {action: handler}, the reads of ``endpoints`` and the writes of
``writes`` (set/update, answered with a job reference)."""

from __future__ import annotations

from assessments.dataapi import writes
from assessments.dataapi.endpoints import READS, Handler

ENDPOINTS: dict[str, dict[str, Handler]] = {endpoint: dict(actions) for endpoint, actions in READS.items()}
ENDPOINTS["sessions/responses/scores"]["update"] = writes.scores_update
ENDPOINTS["jobs/sessions/statuses"] = {"update": writes.statuses_update}
ENDPOINTS["jobs/sessions/metadata"] = {"set": writes.metadata_set}
ENDPOINTS["sessions"] = {"set": writes.sessions_set}
