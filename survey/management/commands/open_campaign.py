from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey import services
from survey.models import Survey


class Command(BaseCommand):
    help = "Open a campaign of the latest version of a survey, with sensible defaults (8 weeks, k=5, ages 14–27)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("survey_slug")
        parser.add_argument("campaign_slug")
        parser.add_argument("--languages", help="Comma-separated, e.g. de,ar (default: all of the survey's).")
        parser.add_argument("--min-age", type=int, default=14)
        parser.add_argument("--max-age", type=int, default=27)
        parser.add_argument("--k", type=int, default=5, help="Smallest group size shown in results (default 5).")
        parser.add_argument("--title", default=None)
        parser.add_argument("--organisation", default=None, help="Needed when several organisations have the survey.")

    def handle(self, *args, **options) -> None:
        surveys = Survey.objects.filter(slug=options["survey_slug"])
        if options["organisation"]:
            surveys = surveys.filter(organisation__slug=options["organisation"])
        found = list(surveys[:2])
        if not found:
            raise CommandError(f"No survey '{options['survey_slug']}'. Load it first with load_survey.")
        if len(found) > 1:
            raise CommandError("Several organisations have this survey; name one with --organisation.")
        version = found[0].latest_version()
        languages = [code.strip() for code in options["languages"].split(",")] if options["languages"] else None
        try:
            campaign = services.campaign_open(
                survey_version=version,
                slug=options["campaign_slug"],
                title=options["title"],
                languages=languages,
                min_age=options["min_age"],
                max_age=options["max_age"],
                k=options["k"],
            )
        except services.ServiceError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            f"Campaign '{campaign.slug}' is open until {campaign.closes_at:%Y-%m-%d} "
            f"({version}); link: {campaign.get_absolute_url()}"
        )
