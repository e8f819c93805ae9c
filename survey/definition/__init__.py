"""Survey definitions: the data format every part of the platform reads (see docs/survey-definition.md)."""

from survey.definition.conditions import evaluate, prune_answers, visible_path
from survey.definition.loader import DefinitionError, load_definition_file, parse_definition
from survey.definition.model import Question, QuestionType, Step, SurveyDefinition

__all__ = [
    "DefinitionError",
    "Question",
    "QuestionType",
    "Step",
    "SurveyDefinition",
    "evaluate",
    "load_definition_file",
    "parse_definition",
    "prune_answers",
    "visible_path",
]
