"""Cities of the cooperation and their districts, as offered by ``district`` questions."""

DORTMUND_DISTRICTS: list[str] = [
    "Innenstadt-West",
    "Innenstadt-Nord",
    "Innenstadt-Ost",
    "Eving",
    "Scharnhorst",
    "Brackel",
    "Aplerbeck",
    "Hörde",
    "Hombruch",
    "Lütgendorf",
    "Huckarde",
    "Mengede",
]
#: The value a respondent gives when they live outside the campaign's city.
OUTSIDE_CITY = "outside_city"


def district_value(name: str) -> str:
    """``Innenstadt-West`` -> ``innenstadt_west``: the stored answer is stable even if a label changes."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "-": "_", " ": "_"})
    return name.lower().translate(table)
