"""The content of a report, independent of its format: bilingual texts, sections, tables, figures.

Build a `Report`, add sections with text, protected tables and plotly figures, then hand it to
`boligmix.report.html.write_html` and/or `boligmix.report.excel.write_excel`.

    report = Report(Text("Socialt mix", "Social mix"), provenance=prov)
    sec = report.section(Text("Sammensætning", "Composition"), Text("Andele ...", "Shares ..."))
    sec.table(protect(frame, counts=["n"]), Text("Beboere", "Residents"), name="composition")
    sec.figure(fig, Text("Udvikling", "Trend"))
    sec.figure({"da": fig_da, "en": fig_en}, Text("Udvikling", "Trend"))  # labels in each language
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from boligmix.errors import ConfigurationError
from boligmix.numbers import fmt_spec
from boligmix.report.disclosure import ProtectedTable
from boligmix.report.provenance import Provenance


@dataclass(frozen=True)
class Text:
    """A text in Danish (shown first) and English."""

    da: str
    en: str

    @classmethod
    def of(cls, value: "TextLike") -> "Text":
        if isinstance(value, Text):
            return value
        if isinstance(value, Mapping):
            return cls(str(value["da"]), str(value["en"]))
        return cls(str(value), str(value))


    def pick(self, lang: str) -> str:
        """The text in `lang` ('da' or 'en')."""
        return self.da if lang == "da" else self.en


TextLike = Union[Text, str, Mapping[str, str]]


@dataclass(frozen=True)
class TableBlock:
    table: ProtectedTable
    caption: Text
    name: str
    """Short name: the Excel sheet name and the HTML anchor."""
    labels: dict[str, Text]
    formats: dict[str, str]
    """Column -> Python format spec for numbers, e.g. '.1%' or ',.0f'."""
    max_rows: int | None
    bilingual: dict[str, str] = field(default_factory=dict)
    """Danish text column -> its English twin: HTML shows one column switched by the language toggle
    (the English column is not shown on its own); Excel keeps both."""


LANGUAGES = ("da", "en")


def per_language(build: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """`build(*args, lang=...)` once per report language, e.g. a figure worded in each (for `Section.figure`)."""
    return {lang: build(*args, lang=lang) for lang in LANGUAGES}


@dataclass(frozen=True)
class FigureBlock:
    figures: Mapping[str, Any]
    """A plotly `Figure` per language ('da', 'en'); the same object for both when it has no text."""
    caption: Text

    @property
    def figure(self) -> Any:
        """The Danish figure (the report's first language)."""
        return self.figures["da"]

    @property
    def bilingual(self) -> bool:
        return self.figures["da"] is not self.figures["en"]


@dataclass(frozen=True)
class TextBlock:
    text: Text


Block = Union[TextBlock, TableBlock, FigureBlock]


@dataclass
class Section:
    title: Text
    blocks: list[Block] = field(default_factory=list)
    _report: "Report | None" = field(default=None, repr=False)

    def text(self, text: TextLike) -> "Section":
        self.blocks.append(TextBlock(Text.of(text)))
        return self

    def table(self, table: ProtectedTable, caption: TextLike, *, name: str | None = None,
              labels: Mapping[str, TextLike] | None = None, formats: Mapping[str, str] | None = None,
              max_rows: int | None = 200, bilingual: Mapping[str, str] | None = None) -> "Section":
        """Add a protected table; `max_rows` limits the HTML rows (Excel gets all rows). `bilingual`
        maps a Danish text column to its English twin (e.g. {"label_da": "label_en"})."""
        if not isinstance(table, ProtectedTable):
            raise ConfigurationError(
                "reports accept only tables that passed boligmix.report.disclosure.protect (or exempt)")
        name = name or f"table_{sum(isinstance(b, TableBlock) for b in self._all_blocks()) + 1}"
        if any(isinstance(b, TableBlock) and b.name == name for b in self._all_blocks()):
            raise ConfigurationError(f"two tables are named '{name}'", field="name")
        bilingual = dict(bilingual or {})
        missing = sorted({c for pair in bilingual.items() for c in pair} - set(table.frame.columns))
        if missing:
            raise ConfigurationError(f"bilingual columns not in table '{name}': {missing}", field="bilingual")
        self.blocks.append(TableBlock(table, Text.of(caption), name,
                                      {k: Text.of(v) for k, v in (labels or {}).items()},
                                      dict(formats or {}), max_rows, bilingual))
        return self

    def figure(self, figure: Any, caption: TextLike) -> "Section":
        """Add a plotly figure: one `Figure` for both languages, or `{"da": fig, "en": fig}` when its
        titles, axis labels or legend are worded per language (the HTML toggle switches them)."""
        figures = dict(figure) if isinstance(figure, Mapping) else {lang: figure for lang in LANGUAGES}
        if set(figures) != set(LANGUAGES):
            raise ConfigurationError(f"a bilingual figure needs exactly the languages {LANGUAGES}, got "
                                     f"{sorted(figures)}", field="figure")
        for lang, fig in figures.items():
            if not hasattr(fig, "to_html"):
                raise ConfigurationError(f"figure ({lang}) must be a plotly Figure", field="figure")
        self.blocks.append(FigureBlock(figures, Text.of(caption)))
        return self

    def _all_blocks(self) -> list[Block]:
        if self._report is None:
            return list(self.blocks)
        return [b for s in self._report.sections for b in s.blocks]


@dataclass
class Report:
    title: Text
    provenance: Provenance
    intro: Text | None = None
    sections: list[Section] = field(default_factory=list)
    links: list[tuple[Text, str]] = field(default_factory=list)
    """Related reports: (link text, relative path), shown at the top of the HTML report."""

    def __init__(self, title: TextLike, *, provenance: Provenance, intro: TextLike | None = None) -> None:
        self.title = Text.of(title)
        self.provenance = provenance
        self.intro = Text.of(intro) if intro is not None else None
        self.sections = []
        self.links = []

    def link(self, text: TextLike, href: str) -> None:
        """Add a link to a related report (a relative path, e.g. 'mix/report.html')."""
        self.links.append((Text.of(text), href))

    def section(self, title: TextLike, text: TextLike | None = None) -> Section:
        sec = Section(Text.of(title), _report=self)
        if text is not None:
            sec.text(text)
        self.sections.append(sec)
        return sec

    def tables(self) -> list[TableBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, TableBlock)]

    def figures(self) -> list[FigureBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, FigureBlock)]


def display_order(frame: Any) -> list[int]:
    """Row indices in the order a report shows them: newest year first (by `year`, or `year_to` then
    `year_from`), the table's own order otherwise and within a year."""
    for keys in (("year",), ("year_to", "year_from")):
        if all(k in frame.columns for k in keys):
            years = list(zip(*(frame.get_column(k).to_list() for k in keys)))
            return sorted(range(frame.height), key=lambda i: tuple(-(y or 0) for y in years[i]))
    return list(range(frame.height))


def format_cell(value: Any, fmt: str | None) -> str:
    """Format one published value for display ('' for a plain missing value)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
        return fmt_spec(value, fmt, "en")
    return str(value)
