import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey.models import Campaign
from survey.selectors import campaign_status


class Command(BaseCommand):
    help = "Started, completed and open drafts of a campaign, and how many respondents reached each step."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args, campaign: str, **options) -> None:
        try:
            campaign_obj = Campaign.objects.select_related("survey_version").get(slug=campaign)
        except Campaign.DoesNotExist as error:
            raise CommandError(f"No campaign '{campaign}'.") from error
        status = campaign_status(campaign=campaign_obj)
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        self.stdout.write(
            f"{status['campaign']} ({status['status']}): started {status['started']}, "
            f"completed {status['completed']}, open drafts {status['drafts']}"
        )
        for step in status["steps"]:
            self.stdout.write(f"  {step['step']:<30} reached {step['reached']}")
