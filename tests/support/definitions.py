"""Small survey definitions for focused tests (the demo survey is tested on its own)."""

import copy
from typing import Any


def t(de: str, en: str | None = None, ar: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or f"{de} (en)", "ar": ar or f"{de} (ar)"}


MINI: dict[str, Any] = {
    "slug": "mini",
    "title": t("Mini-Umfrage", "Mini survey", "استبيان صغير"),
    "description": t("Eine kurze Testumfrage.", "A short test survey.", "استبيان اختبار قصير."),
    "estimated_minutes": 3,
    "languages": ["de", "en", "ar"],
    "steps": [
        {
            "key": "status_step",
            "title": t("Deine Situation", "Your situation", "وضعك"),
            "questions": [
                {
                    "key": "status",
                    "type": "single_choice",
                    "label": t("Was machst du gerade?", "What are you doing at the moment?", "ماذا تفعل حاليًا؟"),
                    "required": True,
                    "options": [
                        {"value": "school", "label": t("Schule", "School", "المدرسة")},
                        {"value": "training", "label": t("Ausbildung", "Apprenticeship", "تدريب مهني")},
                        {"value": "job_seeking", "label": t("Ich suche Arbeit", "Looking for work", "أبحث عن عمل")},
                    ],
                    "other": True,
                },
                {"key": "hint", "type": "info", "label": t("Danke!", "Thanks!", "شكرًا!")},
            ],
        },
        {
            "key": "training_step",
            "title": t("Ausbildung", "Apprenticeship", "التدريب المهني"),
            "show_if": {"question": "status", "equals": "training"},
            "questions": [
                {"key": "training_field", "type": "text", "label": t("In welchem Beruf?"), "required": True},
                {
                    "key": "training_happy",
                    "type": "likert",
                    "label": t("Wie zufrieden bist du?"),
                    "scale": {"points": 5, "low": t("gar nicht"), "high": t("sehr")},
                },
            ],
        },
        {
            "key": "search_step",
            "title": t("Arbeitssuche", "Looking for work", "البحث عن عمل"),
            "show_if": {"question": "status", "in": ["job_seeking"]},
            "questions": [
                {
                    "key": "months_searching",
                    "type": "number",
                    "label": t("Seit wie vielen Monaten suchst du?"),
                    "required": True,
                    "min": 0,
                    "max": 120,
                },
                {
                    "key": "barriers",
                    "type": "multi_choice",
                    "label": t("Was macht es schwer?"),
                    "options": [
                        {"value": "language", "label": t("Sprache")},
                        {"value": "recognition", "label": t("Anerkennung")},
                        {"value": "none", "label": t("Nichts davon"), "exclusive": True},
                    ],
                    "other": True,
                },
                {
                    "key": "barriers_detail",
                    "type": "long_text",
                    "label": t("Magst du mehr erzählen?"),
                    "privacy": "free_text",
                    "show_if": {"question": "barriers", "in": ["language", "recognition"]},
                },
            ],
        },
        {
            "key": "about_step",
            "title": t("Über dich", "About you", "عنك"),
            "questions": [
                {
                    "key": "birth_year",
                    "type": "year",
                    "label": t("In welchem Jahr bist du geboren?", "In which year were you born?", "في أي سنة ولدت؟"),
                    "min": 1995,
                    "max": 2012,
                    "privacy": "quasi_identifier",
                },
                {"key": "district", "type": "district", "label": t("Wo wohnst du?"), "privacy": "quasi_identifier"},
                {"key": "happy_in_city", "type": "yes_no", "label": t("Lebst du gern hier?")},
                {
                    "key": "wishes",
                    "type": "long_text",
                    "label": t("Was wünschst du dir?"),
                    "privacy": "free_text",
                    "max_length": 500,
                },
            ],
        },
    ],
}


def mini_definition(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the mini survey, with top-level keys replaced."""
    data = copy.deepcopy(MINI)
    data.update(changes)
    return data
