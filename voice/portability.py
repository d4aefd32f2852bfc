"""What of the voice of the customer travels in a workspace archive: feature requests with their
evidence, and survey responses (the history NPS trends, health and playbooks read)."""

from workspaces.transfer import Part, Table

from .models import FeatureRequest, FeatureRequestEvidence, SurveyResponse

PART = Part("voice", [
    Table(FeatureRequest),
    Table(FeatureRequestEvidence, keep_ids=False),
    Table(SurveyResponse, keep_ids=False),
])
