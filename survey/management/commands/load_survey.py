from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey import services
from survey.definition import DefinitionError, load_definition_file
from survey.models import Organisation


class Command(BaseCommand):
    help = "Load a survey definition (JSON or YAML) as a new survey version; prints the slug and version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The definition file (.yaml, .yml or .json).")
        parser.add_argument(
            "--organisation", default=None, help="Slug of the owning organisation (default: the only one, or dortmund)."
        )

    def handle(self, *args, path: str, organisation: str | None, **options) -> None:
        try:
            _definition, data = load_definition_file(path)
        except DefinitionError as error:
            for problem in error.problems:
                self.stderr.write(problem)
            raise CommandError(f"{path}: {len(error.problems)} problem(s); nothing was loaded.") from error
        org = self._organisation(organisation)
        version, created = services.survey_version_load(data=data, organisation=org)
        state = "created" if created else "unchanged, already loaded"
        self.stdout.write(f"{version.survey.slug} version {version.number} ({state})")

    def _organisation(self, slug: str | None) -> Organisation:
        if slug:
            try:
                return Organisation.objects.get(slug=slug)
            except Organisation.DoesNotExist as error:
                raise CommandError(f"No organisation with slug '{slug}'.") from error
        organisations = list(Organisation.objects.all()[:2])
        if len(organisations) == 1:
            return organisations[0]
        return services.organisation_get_or_create_default()
