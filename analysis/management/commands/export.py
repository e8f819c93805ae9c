from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.export_jobs import export_file
from analysis.exports import AVAILABLE, DEFAULT_FORMATS, NoSnapshot
from survey.models import Campaign

NOT_AVAILABLE = "Export of {what} as {format} is not available yet (available: {available})."


def _available() -> str:
    kinds: dict[str, list[str]] = {}
    for what, fmt in sorted(AVAILABLE):
        kinds.setdefault(what, []).append(fmt)
    return "; ".join(f"{what} as {', '.join(formats)}" for what, formats in kinds.items())


class Command(BaseCommand):
    help = (
        "Export a campaign's anonymised data: microdata (csv, xlsx, sav, dta), its codebook (md, html), the"
        " published aggregates (csv, xlsx) or a Frictionless data package of them (a new directory)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", metavar="SLUG", required=True)
        parser.add_argument("--what", default="microdata", help="microdata, codebook, aggregates or datapackage")
        parser.add_argument(
            "--format", help="microdata: csv (default), xlsx, sav, dta; codebook: md, html; aggregates: csv, xlsx"
        )
        parser.add_argument("--out", metavar="PATH", required=True, type=Path)

    def handle(self, *args, campaign: str, what: str, format: str | None, out: Path, **options) -> None:
        format = format or DEFAULT_FORMATS.get(what, "csv")
        if (what, format) not in AVAILABLE:
            raise CommandError(NOT_AVAILABLE.format(what=what, format=format, available=_available()))
        try:
            campaign_obj = Campaign.objects.select_related("survey_version", "organisation").get(slug=campaign)
        except Campaign.DoesNotExist as error:
            raise CommandError(f"No campaign '{campaign}'.") from error
        try:
            job = export_file(campaign=campaign_obj, what=what, fmt=format, out=out)
        except (NoSnapshot, FileExistsError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{campaign_obj.slug}: {job.rows} rows written to {out}")
