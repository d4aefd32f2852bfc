"""What of the programmes capability travels in a workspace archive: programmes, their sessions and
attendance (with the touchpoint each attended row made, which travels with accounts)."""

from workspaces.transfer import Part, Table

from .models import Attendance, Programme, ProgrammeSession

PART = Part("programmes", [
    Table(Programme),
    Table(ProgrammeSession),
    Table(Attendance, keep_ids=False),
])
