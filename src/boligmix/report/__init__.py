"""Reports (HTML, Excel) and the disclosure control every published output passes through.

    from boligmix.report import Report, Text, Provenance, protect, Share, Additive, write_html, write_excel
"""

from boligmix.report.disclosure import (
    SUPPRESSED_COLUMN,
    Additive,
    DisclosurePolicy,
    GroupTotal,
    ProtectedTable,
    Share,
    ValueSum,
    exempt,
    protect,
)
from boligmix.report.document import Report, Section, Text
from boligmix.report.excel import write_excel
from boligmix.report.html import render_html, write_html
from boligmix.report.provenance import Provenance

__all__ = [
    "SUPPRESSED_COLUMN",
    "Additive",
    "DisclosurePolicy",
    "GroupTotal",
    "ProtectedTable",
    "Provenance",
    "Report",
    "Section",
    "Share",
    "Text",
    "ValueSum",
    "exempt",
    "protect",
    "render_html",
    "write_excel",
    "write_html",
]
