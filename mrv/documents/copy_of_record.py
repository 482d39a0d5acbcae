"""The copy of record of a submitted revision as a PDF (ReportLab), in English or Chinese.

Byte-stable: the same revision in the same state (before and after the opinion) and the same language
give the same bytes. ReportLab runs in its invariant mode (no random document id), the creation date is
the revision's submission time, and the embedded font subset is named from its content. The CJK font is
a TrueType collection from a Debian package (``fonts-wqy-zenhei``, installed by scripts/services.sh and
the Dockerfile), embedded as a subset of the glyphs used: the file reads the same on a machine without
it. ``MRV_CJK_FONT`` names another TrueType font (``.ttf``/``.ttc``; ReportLab cannot embed CFF-based
OpenType fonts such as Noto CJK's).

Figures are written exactly as the service stores them (plain decimal notation), never reformatted.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from mrv.domain.provinces import PROVINCES
from mrv.models import SECTOR_LABELS
from mrv.selectors.records import Record, RecordLine

FONT = "MRV-CJK"
#: TrueType fonts with Chinese glyphs, first found wins (Debian package paths).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
#: Activity lines per table: ReportLab splits a long table across pages in time that grows with its size.
LINES_PER_TABLE = 25


class FontMissing(RuntimeError):
    """No TrueType font with Chinese glyphs is installed (install fonts-wqy-zenhei, or set MRV_CJK_FONT)."""


@cache
def register_font() -> str:
    """Register the CJK font once per process; its name for the styles."""
    configured = getattr(settings, "MRV_CJK_FONT", "") or os.environ.get("MRV_CJK_FONT", "")
    paths = [configured] if configured else list(FONT_CANDIDATES)
    for path in paths:
        if path and os.path.exists(path):
            options = {"subfontIndex": 0} if path.endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont(FONT, path, **options))
            return FONT
    raise FontMissing(
        "no CJK TrueType font found (tried " + ", ".join(paths) + "): install the Debian package "
        "fonts-wqy-zenhei or set MRV_CJK_FONT to a .ttf/.ttc file"
    )


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK", alignment=TA_LEFT)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=20, spaceAfter=2 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9, textColor=colors.HexColor("#5b6878")),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=15, spaceBefore=4 * mm, spaceAfter=1.5 * mm
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9),
        "mono": ParagraphStyle("mono", parent=base, fontSize=8, leading=10),
    }


def _escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _grid(font: str, header: bool = True, size: float = 8) -> TableStyle:
    commands: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size + 2),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dde3ea")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#5b6878")),
        ]
    return TableStyle(commands)


def _period(record: Record) -> str:
    return f"{record.year}-{record.month:02d}" if record.month else str(record.year)


def _facts(record: Record) -> list[tuple[str, str]]:
    sector = SECTOR_LABELS.get(record.sector, record.sector)
    province = PROVINCES.get(record.province, record.province)
    rows = [
        (_("Facility"), f"{record.facility} (id {record.facility_id})"),
        (_("Operator"), record.operator),
        (_("Unified social credit code"), record.credit_code),
        (_("Sector"), f"{_(sector)} ({record.sector})"),
        (_("Province"), f"{_(province)} ({record.province})"),
        (_("Period"), _period(record)),
        (_("Methodology"), record.methodology),
        (_("Methodology version"), record.methodology_version),
        (_("GWP set"), record.gwp),
        (_("Report and revision"), f"{record.report} r{record.revision}"),
        (_("Status"), record.status),
        (_("Submitted at (UTC)"), record.submitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),
        (_("Submitted by"), record.submitted_by),
        (_("Activity lines"), str(len(record.lines))),
    ]
    return rows


def _totals(record: Record) -> list[list[str]]:
    totals = record.totals
    reported = totals.get("reported") or {}
    rule = reported.get("rounding") or {}
    rows = [[_("Figure (tCO2e)"), _("Exact"), _("As reported")]]
    for key, label in (("direct", _("Direct")), ("indirect", _("Indirect")), ("total", _("Total"))):
        rows.append([label, str(totals.get(key, "")), str(reported.get(key, ""))])
    for category, value in (totals.get("by_category") or {}).items():
        rows.append(["  " + category, str(value), str((reported.get("by_category") or {}).get(category, ""))])
    rows.append(
        [_("Biogenic CO2 (memo)"), str(totals.get("biogenic_co2", "")), str(reported.get("biogenic_co2", ""))]
    )
    if rule:
        rows.append([_("Reporting rule"), "", f"{rule.get('places')} / {rule.get('mode')}"])
    return rows


def _parameters(line: RecordLine, sources: dict[str, int]) -> str:
    """``name = value unit (origin)``; a default's citation is numbered in ``sources`` (listed once)."""
    parts = []
    for name, entry in line.parameters.items():
        value = entry.get("value")
        text = f"{name} = {format(value, 'f') if not isinstance(value, str) else value}"
        unit = entry.get("unit")
        if unit and unit != "1":
            text += f" {unit}"
        origin = entry.get("origin", "")
        if entry.get("source"):
            citation = entry["source"] + (f", {entry['table']}" if entry.get("table") else "")
            origin += f" [{sources.setdefault(citation, len(sources) + 1)}]"
        parts.append(f"{text} ({origin})")
    return "; ".join(parts)


def _given(line: RecordLine) -> str:
    """The line as given, ``field=value unit`` (its ref, source and month have columns of their own)."""
    parts = []
    for key, value in line.inputs.items():
        if key in ("ref", "source", "month"):
            continue
        if isinstance(value, dict) and set(value) == {"value", "unit"}:
            parts.append(f"{key}={value['value']} {value['unit']}")
        elif isinstance(value, (dict, list)):
            parts.append(f"{key}={json.dumps(value, ensure_ascii=False, separators=(',', ':'), default=str)}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


#: A CJK character (a line may break after any), else a run of other characters with its spaces.
_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*|\s+"
)


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """``text`` broken into lines of at most ``width`` points (a plain table cell: ReportLab's CJK
    paragraphs measure every character of every line again, a hundred times slower on long tables)."""
    lines: list[str] = []
    current, used = "", 0.0
    for token in _TOKEN.findall(text):
        size_of = stringWidth(token.rstrip(), font, size)
        if size_of > width:  # a token wider than the column (a long code): broken anywhere
            for character in token:
                step = stringWidth(character, font, size)
                if used + step > width and current:
                    lines.append(current.rstrip())
                    current, used = "", 0.0
                current += character
                used += step
            continue
        if current and used + size_of > width:
            lines.append(current.rstrip())
            current, used = token.lstrip(), stringWidth(token.lstrip(), font, size)
            continue
        current += token
        used += stringWidth(token, font, size)
    if current.strip():
        lines.append(current.rstrip())
    return "\n".join(lines)


def _line_tables(record: Record, font: str, sources: dict[str, int]) -> Iterator[Flowable]:
    header = [_("No."), _("Line"), _("Category"), "tCO2e", _("As given; parameters (origin)")]
    widths = [9 * mm, 34 * mm, 22 * mm, 30 * mm, A4[0] - 28 * mm - 95 * mm]
    size = 7
    padding = 12  # the cell's left and right padding (6 points each)
    for start in range(0, len(record.lines), LINES_PER_TABLE):
        rows: list[list[Any]] = [header]
        for line in record.lines[start : start + LINES_PER_TABLE]:
            what = "\n".join(
                [_wrap(line.ref, font, size, widths[1] - padding), line.source]
                + ([f"{_('month')} {line.month}"] if line.month else [])
            )
            detail = [_given(line), _parameters(line, sources)]
            if line.product:
                detail.append(f"{line.product}: {line.quantity} t")
            text = "\n".join(_wrap(part, font, size, widths[4] - padding) for part in detail if part)
            co2e = _wrap(line.co2e, font, size, widths[3] - padding)
            rows.append([str(line.index), what, line.category, co2e, text])
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(_grid(font, size=size))
        yield table


def _opinion(record: Record, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    opinion = record.opinion
    if opinion is None:
        return [Paragraph(_("No opinion has been given yet."), styles["base"])]
    given = opinion.given_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if opinion.given_at else ""
    rows = [
        (_("Opinion"), opinion.opinion),
        (_("Verification body"), opinion.body),
        (_("Verifier"), opinion.verifier),
        (_("Given at (UTC)"), given),
        (_("Statement"), opinion.statement),
    ]
    if opinion.materiality:
        rows.append((_("Materiality"), json.dumps(opinion.materiality, ensure_ascii=False, default=str)))
    return [_key_values(rows, styles)]


def _key_values(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle]) -> Table:
    table = Table(
        [[label, Paragraph(_escape(value), styles["base"])] for label, value in rows],
        colWidths=[48 * mm, None],
    )
    table.setStyle(_grid(styles["base"].fontName, header=False, size=8.5))
    return table


def render(record: Record, *, language: str) -> bytes:
    """The copy of record of ``record`` in ``language`` (``en`` or ``zh-hans``) as PDF bytes."""
    font = register_font()
    with translation.override(language):
        return _render(record, font)


def _render(record: Record, font: str) -> bytes:
    styles = _styles(font)
    sources: dict[str, int] = {}  # each default's citation, numbered in the order first used
    buffer = io.BytesIO()
    title = _("Copy of record: emissions report")
    stamp = record.submitted_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {record.report} r{record.revision}",
        author="Open MRV",
        subject=record.digest,
        creator="Open MRV",
        invariant=1,
        lang=translation.get_language(),
    )
    footer = f"{_('Report')} {record.report} r{record.revision} · SHA-256 {record.digest[:16]}…"

    def page(canvas: Any, doc: Any) -> None:
        canvas.setDateFormatter(lambda *_parts: stamp)  # the creation date: the submission time
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#5b6878"))
        canvas.drawString(14 * mm, 9 * mm, footer)
        canvas.drawRightString(A4[0] - 14 * mm, 9 * mm, _("page %(number)d") % {"number": doc.page})
        canvas.restoreState()

    story: list[Flowable] = [
        Paragraph(_escape(title), styles["title"]),
        Paragraph(
            _escape(
                _(
                    "Generated from the revision as it was submitted (frozen): it reads the same each time, "
                    "until the verifier's opinion is added."
                )
            ),
            styles["subtitle"],
        ),
        Paragraph(_escape(_("Report")), styles["h2"]),
        _key_values(_facts(record), styles),
        Paragraph(_escape(_("Totals")), styles["h2"]),
    ]
    totals = Table(_totals(record), colWidths=[60 * mm, 55 * mm, 55 * mm])
    totals.setStyle(_grid(font))
    story.append(totals)
    if record.intensity:
        intensity = record.intensity
        story.append(Spacer(0, 1.5 * mm))
        story.append(
            Paragraph(
                _escape(
                    _(
                        "Intensity: {direct} tCO2e/t direct, {total} tCO2e/t total, per {production} t of {product}"
                    ).format(
                        **{
                            key: intensity.get(key, "")
                            for key in ("direct", "total", "production", "product")
                        }
                    )
                ),
                styles["base"],
            )
        )
    story += [
        Paragraph(_escape(_("Digest")), styles["h2"]),
        Paragraph(
            _escape(_("SHA-256 of the canonical JSON of the lines as given:"))
            + "<br/>"
            + _escape(record.digest),
            styles["mono"],
        ),
        Paragraph(_escape(_("Evidence")), styles["h2"]),
        Paragraph(
            "<br/>".join(
                _escape(f"{item['name']} ({item['kind']}, {item['size']} B): SHA-256 {item['sha256']}")
                for item in record.evidence
            )
            if record.evidence
            else _escape(_("none (no evidence file is stored with this revision)")),
            styles["base"],
        ),
        Paragraph(_escape(_("Verification")), styles["h2"]),
        *_opinion(record, styles),
        Paragraph(_escape(_("Activity lines")), styles["h2"]),
        *_line_tables(record, font, sources),
    ]
    if sources:
        story.append(Paragraph(_escape(_("Sources of the default values")), styles["h2"]))
        listing = [
            [f"[{number}]", _wrap(citation, font, 7, A4[0] - 28 * mm - 12 * mm - 12)]
            for citation, number in sources.items()
        ]
        table = Table(listing, colWidths=[12 * mm, None])
        table.setStyle(_grid(font, header=False, size=7))
        story.append(table)
    document.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()
