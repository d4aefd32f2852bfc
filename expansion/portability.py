"""What of the expansion capability travels in a workspace archive: every toss-up, with its status,
amounts and dates (the KPI of a past quarter reads as it did). Its foreign keys (account, the members
who raised, took and logged it) are renamed like every other part's."""

from workspaces.transfer import Part, Table

from .models import Opportunity

PART = Part("expansion", [Table(Opportunity)])
