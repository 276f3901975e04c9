"""The meetings app's derived field, registered with the integrity audit
(``workspace.db.derived``) by ``MeetingsConfig.ready()``."""

from django.db.models import F, OuterRef, Subquery

from chat.models import Channel
from meetings.models import Meeting
from workspace.db.derived import DerivedField


def stale_meetings(company_id: int | None = None):
    """Meetings announced in a channel whose ``is_private`` differs from the
    channel's (a raw ``UPDATE`` of the channel sends no signal). Meetings
    without a channel keep their value: it is what keeps a deleted private
    channel's meetings restricted."""
    qs = Meeting._base_manager.filter(channel__isnull=False).exclude(is_private=F("channel__is_private"))
    return qs if company_id is None else qs.filter(company_id=company_id)


DERIVED_FIELDS = (
    DerivedField(
        kind="stale_meeting_is_private",
        model=Meeting,
        field="is_private",
        problem="is_private != is_private of the channel it is announced in",
        repair="is_private copied from the channel",
        stale=stale_meetings,
        value=lambda: Subquery(Channel._base_manager.filter(pk=OuterRef("channel_id")).values("is_private")[:1]),
    ),
)
