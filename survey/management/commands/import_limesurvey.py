from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from survey.definition import DefinitionError, parse_definition
from survey.limesurvey import LimeSurveyImportError, import_lss


class _PlainDumper(yaml.SafeDumper):
    """Never writes YAML anchors/aliases: every text stays readable where it is used."""

    def ignore_aliases(self, data: object) -> bool:
        return True


class Command(BaseCommand):
    help = (
        "Convert a LimeSurvey survey structure export (.lss) into a Stimmen survey definition (YAML); "
        "prints what could not be converted. Load the result with load_survey after reviewing it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The LimeSurvey survey structure file (.lss).")
        parser.add_argument("--out", required=True, help="Where to write the definition (.yaml).")

    def handle(self, *args, path: str, out: str, **options) -> None:
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file ({error.strerror or error})") from error
        try:
            result = import_lss(content)
        except LimeSurveyImportError as error:
            raise CommandError(f"{path}: not a LimeSurvey survey structure file: {error}") from error
        try:
            definition = parse_definition(result.definition)
        except DefinitionError as error:
            for note in result.unconverted:
                self.stderr.write(self.style.WARNING(f"warning: {note}"))
            for problem in error.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{path}: the converted definition has {len(error.problems)} problem(s); nothing was written."
            ) from error

        text = yaml.dump(result.definition, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{out}: cannot write the file ({error.strerror or error})") from error

        questions = sum(1 for _question in definition.questions())
        self.stdout.write(
            f"Wrote {out}: {len(definition.steps)} steps, {questions} questions, "
            f"{len(definition.languages)} languages ({', '.join(definition.languages)})."
        )
        for note in result.unconverted:
            self.stderr.write(self.style.WARNING(f"warning: {note}"))
        if result.unconverted:
            self.stdout.write(f"{len(result.unconverted)} note(s) on what was not converted; review before loading.")
