import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey.models import Campaign
from survey.synthetic import DEFAULT_DAYS, responses_synthesize


class Command(BaseCommand):
    help = (
        "Store N complete synthetic responses for a campaign (benchmarks and load tests; never on a live "
        "campaign). Same seed, same responses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, help="Slug of the campaign.")
        parser.add_argument("--count", type=int, required=True, help="How many responses.")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="Spread over this many days up to today.")

    def handle(self, *args, campaign: str, count: int, seed: int, days: int, **options) -> None:
        campaign_obj = Campaign.objects.filter(slug=campaign).first()
        if campaign_obj is None:
            raise CommandError(f"No campaign '{campaign}'.")
        if count < 0 or days < 1:
            raise CommandError("--count must not be negative and --days must be at least 1.")
        started = time.perf_counter()
        result = responses_synthesize(campaign=campaign_obj, count=count, seed=seed, days=days)
        seconds = time.perf_counter() - started
        rate = result.created / seconds if seconds else 0.0
        self.stdout.write(
            f"Synthesized {result.created} responses for '{campaign}' over {result.days} days "
            f"(seed {result.seed}) in {seconds:.1f} s ({rate:,.0f} responses/s)."
        )
