from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.exports import AVAILABLE, microdata_csv
from survey.models import Campaign

NOT_AVAILABLE = "Export of {what} as {format} is not available yet (available: microdata as csv)."


class Command(BaseCommand):
    help = "Export a campaign's anonymised data (microdata as CSV for now)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", metavar="SLUG", required=True)
        parser.add_argument("--what", default="microdata", help="microdata (aggregates come later)")
        parser.add_argument("--format", default="csv", help="csv (xlsx and sav come later)")
        parser.add_argument("--out", metavar="PATH", required=True, type=Path)

    def handle(self, *args, campaign: str, what: str, format: str, out: Path, **options) -> None:
        if (what, format) not in AVAILABLE:
            raise CommandError(NOT_AVAILABLE.format(what=what, format=format))
        try:
            campaign_obj = Campaign.objects.select_related("survey_version").get(slug=campaign)
        except Campaign.DoesNotExist as error:
            raise CommandError(f"No campaign '{campaign}'.") from error
        rows = microdata_csv(campaign=campaign_obj, out=out)
        self.stdout.write(f"{campaign_obj.slug}: {rows} rows written to {out}")
