"""Files of `boligmix letting assess`: read the cases, assess them, write OUT.csv and its
provenance sidecar `<OUT>.meta.json` atomically; nothing is written when any line is bad, and an
output path that is, contains or lies inside an input is refused (`check_out_dir`)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from boligmix import __version__
from boligmix.atomic import atomic_path
from boligmix.data.io import check_out_dir
from boligmix.letting.assess import OUT_COLUMNS, OUTCOMES, CaseResult, assess_cases, read_cases
from boligmix.letting.policy import load_default_policies, load_policies


def _atomic_write(path: Path, write: Any) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        write(handle)


def write_results(path: str | os.PathLike[str], results: Sequence[CaseResult]) -> Path:
    """OUT.csv (`case_id,outcome,rule,law,reason`, UTF-8, comma-separated), written atomically."""
    target = Path(path)

    def write(handle: Any) -> None:
        writer = csv.DictWriter(handle, fieldnames=OUT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.row() for r in results)

    _atomic_write(target, write)
    return target


def run_assessment(cases_path: str | os.PathLike[str], out: str | os.PathLike[str],
                   policy_paths: Sequence[str | os.PathLike[str]] | None = None) -> dict[str, Any]:
    """Assess every case of `cases_path` under the policies (default: the packaged statutory ones)
    and write `out` plus `<out>.meta.json` (cases file hash, policies with versions, per case the
    deciding rule's version and unknown facts). Returns the summary written to the sidecar."""
    out_path = Path(out)
    for source, what in [(cases_path, "cases file"), *((p, "policy path") for p in policy_paths or ())]:
        check_out_dir(source, out_path, source=what)
    if out_path.is_dir():
        from boligmix.errors import DatasetError
        raise DatasetError(f"--out {out_path} is a directory; name the CSV file to write")
    policies = load_policies(policy_paths) if policy_paths else load_default_policies()
    cases = read_cases(cases_path)
    results = assess_cases(policies, cases)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    counts = Counter(r.outcome for r in results)
    summary = {
        "out": str(out_path), "cases_file": str(cases_path),
        "cases_sha256": hashlib.sha256(Path(cases_path).read_bytes()).hexdigest(), "cases": len(results),
        "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
        "policies": [{"id": p.id, "version": p.version, "file": p.source} for p in policies.policies],
        "results": [{"case_id": r.case_id, "outcome": r.outcome, "rule": r.rule, "rule_version": r.rule_version,
                     "law": r.law, "unknown_facts": list(r.unknown_facts)} for r in results],
        "boligmix_version": __version__,
    }
    meta = out_path.with_name(out_path.name + ".meta.json")
    write_results(out_path, results)
    _atomic_write(meta, lambda h: h.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n"))
    return summary


__all__ = ["run_assessment", "write_results"]
