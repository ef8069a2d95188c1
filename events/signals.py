"""What the events app tells other apps about residents' sign-ups (the messaging
app, ``notify/``, listens; events never imports it). Each is sent inside the
transaction that made the change, so a receiver's writes commit or roll back
with it.

``registrations_promoted(registrations)``
    waitlisted sign-ups just confirmed (``registration._promote``).
``sessions_changed(page, changed, cancelled)``
    staff published a new time or place of these occurrences (``changed``), or
    cancelled them (``cancelled``: a date taken out of the schedule, or the
    whole activity set to 已取消); lists of Occurrence ids, from
    ``occurrences.sync_occurrences``.
``personal_data_erased(registration_ids)``
    these sign-ups lost their personal data (on request or by the retention
    purge): whatever else is kept about them must go too.
"""

from django.dispatch import Signal

registrations_promoted = Signal()
sessions_changed = Signal()
personal_data_erased = Signal()
