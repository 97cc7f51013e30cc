"""The catalogue: the whole library rendered as one browsable Markdown file.

Deterministic (no timestamps) so a test can tell when the committed file is stale. Claim
verdicts and versions covered come from the committed merged matrix (reports/merged.json),
when there is one.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from lstm_atlas.case.validate import Case
from lstm_atlas.engine.match import describe
from lstm_atlas.matrix import markdown as md
from lstm_atlas.versions import env_label, env_sort_key, release


def describe_expectation(expect: dict) -> str:
    """The base expectation, then each override as what it changes on its versions.

    An override that names another exception but no stage keeps the base's stage (as
    ``effective_expectation`` does), so its stage is the base's, never unknown.
    """
    def one(block):
        return describe(block, code=md.code, regex=lambda t: f"matching {md.code(t)}")

    lines = [one(expect)]
    for override in expect.get("overrides", []):
        when = md.text(", ".join(f"{k} {v}" if k in ("tf", "keras", "numpy") else f"{k}={v}"
                                 for k, v in override["when"].items()))
        effective = dict(override)
        if "raises" in override and not override.get("stage") and expect.get("stage"):
            effective["stage"] = expect["stage"]
        body = one(effective)
        if not any(k in override for k in ("raises", "ok", "crash")):  # refines only part of the base
            parts = [f"message matching {md.code(override['match'])}"] if override.get("match") else []
            parts += [f"stage {md.code(override['stage'])}"] if override.get("stage") else []
            parts += [body] if body and not override.get("match") else []
            if "warns" in override and override["warns"] is None:
                parts.append("no warning required")
            body = ", ".join(p for p in parts if p)
        lines.append(f"when {when}: {body}")
    return "; ".join(lines)


def _claim_text(claim: dict) -> str:
    said = (md.code(claim["raises"]) + (f" at {md.code(claim['stage'])}" if claim.get("stage") else "")
            if "raises" in claim else "runs" + (f" with {md.text(claim['loss'])} loss" if claim.get("loss") else ""))
    return f"“{md.text(claim['text'])}” (says: {said})"


def env_list(keys: list[str], envs: dict) -> str:
    """Environments by their unique labels (``versions.env_label``), in matrix order."""
    return ", ".join(md.text(env_label(envs.get(key, {"tensorflow": key}))) for key in keys)


def _ordered(keys, envs: dict) -> list[str]:
    return sorted(keys, key=lambda key: (env_sort_key(envs.get(key, {})), key))


def _range(keys: list[str], envs: dict) -> str:
    """'TF 2.12.1 to 2.21.0, and tf_keras': the span of a set that holds every environment."""
    plain = [envs[k] for k in keys if k in envs and not envs[k].get("legacy_keras")] or [envs.get(keys[0], {})]
    tfs = sorted({e.get("tensorflow", "?") for e in plain}, key=release)
    legacy = any(envs.get(k, {}).get("legacy_keras") for k in keys)
    return md.text(f"TF {tfs[0]} to {tfs[-1]}") + (", and tf_keras" if legacy else "")


def group_by_verdict(verdicts: dict, envs: dict) -> str:
    """'false on every environment run (12: TF 2.12.1 to 2.21.0, and tf_keras)', or per verdict by label."""
    groups: dict = defaultdict(list)
    for key, value in verdicts.items():
        groups[value].append(key)
    parts = []
    for value, keys in sorted(groups.items()):
        keys = _ordered(keys, envs)
        if len(groups) == 1 and len(keys) == len(envs):
            parts.append(f"{value} on every environment run ({len(keys)}: {_range(keys, envs)})")
        else:
            parts.append(f"{value} on {env_list(keys, envs)}")
    return "; ".join(parts)


def matrix_facts(merged: dict | None) -> tuple[dict, dict]:
    """(case id -> {variant -> {env key: claim verdict}}, case id -> {device -> env keys where the fix passed}).

    "Verified on" means the corrected code ran clean there: only the fix variant counts (a repro
    that reproduced says nothing about the fix), and only a pass that ran clean (a fix whose
    expectation on that version is a crash, e.g. the TFLite converter on TF 2.16, passes as a
    case but fixes nothing).
    """
    claims: dict = defaultdict(lambda: defaultdict(dict))
    verified: dict = defaultdict(lambda: defaultdict(set))
    if not merged:
        return claims, verified
    for case_id, variants in merged.get("results", {}).items():
        for variant, devices in variants.items():
            for device, by_env in devices.items():
                for key, cell in by_env.items():
                    if cell.get("claim_verdict") and device == "cpu":
                        claims[case_id][variant][key] = cell["claim_verdict"]
                    if variant == "fix" and cell.get("verdict") == "pass" and cell.get("status") == "ok":
                        verified[case_id][device].add(key)
    return claims, verified


def verified_text(by_device: dict, envs: dict) -> str:
    """The "Verified on" line: per device, the environments where the fix passed."""
    parts = []
    for device in ("cpu", "gpu"):
        keys = _ordered(by_device.get(device, ()), envs)
        if not keys:
            continue
        text = (f"all {len(keys)} environments ({_range(keys, envs)})" if len(keys) == len(envs)
                else env_list(keys, envs))
        parts.append(f"{device.upper()}: {text}")
    return "; ".join(parts)


def _shown_path(path: str, root) -> str:
    p = Path(path)
    if root is not None:
        try:
            p = p.resolve().relative_to(Path(root).resolve())
        except ValueError:
            pass
    return p.as_posix()


def public_reports(cases: list[Case], root: str | Path | None) -> dict[str, list]:
    """Case id -> the wild corpus's reports (tune and frozen) that it explains, from ``root/wild`` if present."""
    wild = Path(root) / "wild" if root is not None else None
    if wild is None or not (wild / "report.schema.json").is_file():
        return {}
    from lstm_atlas.wild import load_corpus

    out: dict[str, list] = defaultdict(list)
    for report in load_corpus(wild, {c.id: c.family for c in cases}):
        if report.case != "none":
            out[report.case].append(report)
    return dict(out)


def reports_text(reports: list) -> str:
    """The "Seen in public reports" line: how many, and the first few addresses."""
    shown = ", ".join(md.url(r.url) for r in reports[:3])
    more = f" and {len(reports) - 3} more" if len(reports) > 3 else ""
    return f"{len(reports)} (reported, not run here: {shown}{more})"


def render_catalog(cases: list[Case], merged: dict | None = None, root: str | Path | None = None,
                   reports: dict[str, list] | None = None) -> str:
    """``root``: case file paths are shown relative to it (the repository), so the text is portable, and
    its ``wild/`` corpus gives each case's "seen in N public reports" (``reports`` overrides it)."""
    reports = public_reports(cases, root) if reports is None else reports
    claims, verified = matrix_facts(merged)
    envs = (merged or {}).get("environments", {})
    by_family: dict = defaultdict(list)
    for case in cases:
        by_family[case.family].append(case)
    out = ["# LSTM Error Atlas: catalogue", "",
           "Every TensorFlow/Keras LSTM failure mode in the library: what you see, why, and the fix that "
           "was run and passed. Generated by `lstm-atlas catalog` from `cases/`, `reports/merged.json` and the "
           "public reports in `wild/`; "
           "do not edit by hand.", "",
           f"{len(cases)} cases in {len(by_family)} families.", ""]
    for family in sorted(by_family):
        out.append(f"- [{family}](#{family}) ({len(by_family[family])})")
    out.append("")
    for family in sorted(by_family):
        out += [f"## {family}", ""]
        for case in sorted(by_family[family], key=lambda c: c.id):
            spec = case.spec
            out += [f"### {md.text(spec['title'])}", "",
                    f"{md.code(case.id)} · tags: {md.text(', '.join(spec.get('tags', []))) or '—'}", ""]
            if spec.get("symptom"):
                out += [f"**Symptom:** {md.code(spec['symptom'])}", ""]
            out += [f"**What TensorFlow does:** {describe_expectation(spec['expect'])}", "",
                    f"**Cause:** {md.text(spec['cause'].strip())}", "",
                    f"**Fix:** {md.text(spec['fix']['explanation'].strip())} "
                    f"(fix expectation: {describe_expectation(case.variants['fix']['expect'])})", ""]
            for variant, claim in (("repro", spec.get("claim")), ("fix", spec["fix"].get("claim"))):
                if not claim:
                    continue
                verdicts = claims.get(case.id, {}).get(variant, {})
                verdict_text = group_by_verdict(verdicts, envs) if verdicts else "not yet run in the matrix"
                label = "Article's claim" if variant == "repro" else "Article's claim about its fix"
                out += [f"**{label}:** {_claim_text(claim)} — verdict: {verdict_text}", ""]
            text = verified_text(verified.get(case.id, {}), envs)
            if text:
                out += [f"**Verified on:** {text}", ""]
            elif merged:
                out += ["**Verified on:** none: the fix has not passed in the matrix", ""]
            if reports.get(case.id):
                out += [f"**Seen in public reports:** {reports_text(reports[case.id])}", ""]
            source = spec["source"]
            bits = []
            if source.get("seed"):
                bits.append(f"seed article {md.code(source['seed'])}" + (f", example {md.text(source['example'])}"
                                                                      if source.get("example") else "")
                            + (f" ({md.text(source['variant'])})" if source.get("variant") else ""))
            if source.get("url"):
                bits.append(md.url(source["url"]))
            if source.get("fuzz"):
                bits.append(f"`lstm-atlas fuzz` map {md.code(source['fuzz'])}")
            if source.get("note"):
                bits.append(md.text(source["note"]))
            out += [f"**Source:** {'; '.join(bits)}", "", f"Case file: {md.code(_shown_path(case.path, root))}", ""]
    return "\n".join(out).rstrip() + "\n"
