"""The staff side of sign-ups (报名) in the Wagtail admin.

- ``viewsets.RegistrationViewSet``: 报名管理, a read-only listing with filters,
  search, XLSX/CSV export and the row actions 签到 / 取消报名.
- ``checkin.CheckInView``: the door page ``events_checkin`` (``?code=``) used from a
  staff phone; the resident's QR code points at it. ``door``: its lookup by the
  session and the phone's last four digits.
- ``roster.RosterView``: the A4 签到表 of one session, printed from the browser.
- ``access``: who may see what (view / change / personal data, community scope).
- ``audit``: the log actions written to Wagtail's audit log.

Every change of state goes through ``events/registration.py``.
"""
