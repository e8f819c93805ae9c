from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from survey import demo

DEMO_DEFINITION = Path(__file__).resolve().parents[2] / "definitions" / "ausbildung-arbeit-2023.yaml"


class Command(BaseCommand):
    help = "Create the demo organisation, a staff and a researcher login, the demo survey and the open campaign 'demo'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=None, help="Password for the demo logins (default: printed).")

    def handle(self, *args, password: str | None, **options) -> None:
        seeded = demo.seed_demo(definition_path=DEMO_DEFINITION, password=password)
        self.stdout.write(f"Organisation: {seeded.organisation.name}")
        self.stdout.write(f"Survey: {seeded.campaign.survey_version}")
        for user, role in seeded.logins:
            self.stdout.write(f"Login ({role}): {user} / {seeded.password}")
        self.stdout.write(f"Campaign link: {seeded.campaign_url}")
