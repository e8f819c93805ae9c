import datetime

from django.core.management.base import BaseCommand, CommandParser

from analysis.models import DeletionRecord
from analysis.retention import purge_expired


class Command(BaseCommand):
    help = "Delete raw responses past their campaign's retention, expired drafts and submitted drafts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, help="Act as if today were this date (YYYY-MM-DD)."
        )

    def handle(self, *args, today: datetime.date | None = None, **options) -> None:
        purge = purge_expired(today=today)
        for kind in DeletionRecord.Kind:
            self.stdout.write(f"{kind.value}: deleted {purge.total(kind)}")
