from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.snapshots import snapshot_build
from survey.models import Campaign


class Command(BaseCommand):
    help = "Aggregate a campaign's anonymised responses into a snapshot of suppressed tables (synchronously)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", metavar="SLUG", required=True)
        parser.add_argument(
            "--breakdown",
            metavar="QUESTION",
            action="append",
            dest="breakdowns",
            help="A single-choice question to break every question down by (repeatable); "
            "default: the choice of the latest snapshot.",
        )

    def handle(self, *args, campaign: str, breakdowns: list[str] | None, **options) -> None:
        try:
            campaign_obj = Campaign.objects.select_related("survey_version").get(slug=campaign)
        except Campaign.DoesNotExist as error:
            raise CommandError(f"No campaign '{campaign}'.") from error
        try:
            snapshot = snapshot_build(campaign=campaign_obj, breakdowns=breakdowns)
        except (KeyError, ValueError) as error:
            raise CommandError(str(error)) from error
        tables = snapshot.tables
        self.stdout.write(
            f"{campaign_obj.slug}: {snapshot.response_count} responses, {len(tables['tables'])} tables, "
            f"{tables['suppressed_cells']} suppressed cells (snapshot {snapshot.pk}, input {snapshot.input_hash[:12]})"
        )
