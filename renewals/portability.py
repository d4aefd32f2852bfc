"""What of renewals travels in a workspace archive: every recorded outcome (the lines and accounts
it names travel with accounts; its ids are kept, the audit log names them)."""

from workspaces.transfer import Part, Table

from .models import RenewalOutcome

PART = Part("renewals", [Table(RenewalOutcome)])
