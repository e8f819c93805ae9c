from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.anonymisation import campaign_anonymise, campaigns_needing_anonymisation
from survey.models import Campaign


class Command(BaseCommand):
    help = "Anonymise pending responses now (synchronously) and enforce k-anonymity; prints the counts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--campaign", metavar="SLUG", help="Only this campaign (default: every campaign that needs it)."
        )

    def handle(self, *args, campaign: str | None = None, **options) -> None:
        if campaign:
            try:
                campaigns = [Campaign.objects.select_related("survey_version").get(slug=campaign)]
            except Campaign.DoesNotExist as error:
                raise CommandError(f"No campaign '{campaign}'.") from error
        else:
            campaigns = list(campaigns_needing_anonymisation().select_related("survey_version"))
        if not campaigns:
            self.stdout.write("Nothing to anonymise.")
        for campaign_obj in campaigns:
            result = campaign_anonymise(campaign=campaign_obj)
            self.stdout.write(
                f"{campaign_obj.slug}: anonymised {result.anonymised}, suppressed values {result.suppressed_values}"
            )
