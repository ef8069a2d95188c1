"""Record the reminders due (the day before a session, from SMS_REMINDER_HOUR)
and enqueue them for the worker; enqueue again the messages whose retry is due
and was not picked up. Idempotent: run it as often as you like (the timer in
deploy/portal-send-reminders.timer runs it every 10 minutes)."""

from django.core.management.base import BaseCommand

from notify.reminders import queue_reminders
from notify.service import sweep


class Command(BaseCommand):
    help = (
        "记录到期的活动前一天提醒短信并交给后台任务发送，重新排队到期未发的短信。"
        "Queue due reminders and due retries of SMS messages."
    )

    def handle(self, *args, **options):
        reminders = queue_reminders()
        retried = sweep()
        self.stdout.write(f"提醒短信新排队 {reminders} 条；重新排队 {retried} 条。")
