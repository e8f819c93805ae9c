"""The SVG bar chart: well-formed, accessible, and a hidden value shows the marker and nothing else."""

from xml.etree import ElementTree

from analysis.charts import Bar, BarChart, bar_chart_svg
from analysis.disclosure import SECONDARY_MARKER

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _bar_texts(root: ElementTree.Element) -> list[tuple[str, str]]:
    """(label, value text) per bar group, in order."""
    groups = root.findall(f"{SVG}g")
    return [tuple(text.text or "" for text in group.findall(f"{SVG}text")) for group in groups]


def test_chart_is_well_formed_svg_with_title_and_desc_named_by_aria():
    """The chart parses as XML, is an image, and its accessible name comes from its <title> and <desc>."""
    chart = BarChart(title="Status", description="Answers to 'status'", bars=[Bar("School", 12)], chart_id="status")

    root = _parse(bar_chart_svg(chart))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Status" and desc.text == "Answers to 'status'"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_values_and_percentages_are_printed_per_bar():
    """Each bar carries its label and the published count, with the percentage when one is given."""
    chart = BarChart(title="t", description="d", bars=[Bar("A", 30, 75.0), Bar("B", 10, 25.0), Bar("C", 0)])

    assert _bar_texts(_parse(bar_chart_svg(chart))) == [("A", "30 (75 %)"), ("B", "10 (25 %)"), ("C", "0")]


def test_hidden_value_shows_only_the_marker_and_no_bar():
    """A hidden cell draws no bar and no number or percentage: only its marker, "< k" or "•"."""
    chart = BarChart(
        title="t",
        description="d",
        bars=[Bar("A", 40, 80.0), Bar("B", "< 5", None), Bar("C", SECONDARY_MARKER, 12.0)],
    )

    root = _parse(bar_chart_svg(chart))
    groups = root.findall(f"{SVG}g")

    assert _bar_texts(root) == [("A", "40 (80 %)"), ("B", "< 5"), ("C", SECONDARY_MARKER)]
    assert [len(group.findall(f"{SVG}rect")) for group in groups] == [1, 0, 0]
    assert "%" not in "".join(groups[1].itertext()) + "".join(groups[2].itertext())


def test_bar_lengths_are_proportional_to_published_values():
    """The longest bar belongs to the largest published value, and lengths scale with the values."""
    chart = BarChart(title="t", description="d", bars=[Bar("A", 50), Bar("B", 25)])

    widths = [float(rect.get("width")) for rect in _parse(bar_chart_svg(chart)).iter(f"{SVG}rect")]

    assert widths[0] == 2 * widths[1]


def test_text_is_escaped_and_ids_are_safe():
    """Labels with markup stay text, and an odd chart id cannot break out of the attribute."""
    chart = BarChart(
        title="<b>&</b>", description='"quoted"', bars=[Bar("<script>alert(1)</script>", 5)], chart_id='x" onload="y'
    )

    svg = bar_chart_svg(chart)
    root = _parse(svg)

    assert "<script>" not in svg
    assert root.find(f"{SVG}title").text == "<b>&</b>"
    assert root.get("onload") is None
    assert _bar_texts(root)[0][0] == "<script>alert(1)</script>"


def test_empty_chart_and_all_hidden_chart_are_well_formed():
    """No bars, or only hidden bars, still give a valid image (no division by zero)."""
    assert _parse(bar_chart_svg(BarChart(title="t", description="d", bars=[]))).get("role") == "img"
    root = _parse(
        bar_chart_svg(BarChart(title="t", description="d", bars=[Bar("A", SECONDARY_MARKER), Bar("B", "< 5")]))
    )
    assert list(root.iter(f"{SVG}rect")) == []
