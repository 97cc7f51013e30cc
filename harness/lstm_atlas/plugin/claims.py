"""The terminal section that sets each article's claim beside what TensorFlow did.

Cases quote a source (an article, an answer) on what a mistake raises; the claim's verdict
(true, false, ...) is recorded per item, and this section lists them at the end of a run so
a stale claim is seen without opening the results file.
"""

from __future__ import annotations

from collections.abc import Iterable

SECTION_TITLE = "LSTM Error Atlas: source claims vs TensorFlow"


def _claimed(claim: dict) -> str:
    """What the source says happens: an exception (at a stage), or a clean run."""
    if "raises" in claim:
        return f"{claim['raises']}" + (f" at {claim['stage']}" if claim.get("stage") else "")
    return "runs" + (f" with {claim['loss']} loss" if claim.get("loss") else "")


def _seen(observed: dict) -> str:
    """What TensorFlow did: the exception type and stage, or a run with its final loss."""
    exc = observed.get("exception")
    if exc:
        return f"{exc['type']} at {observed.get('stage')}"
    loss = observed.get("outcome", {}).get("loss")
    return "runs" + (f" (final loss {loss})" if loss is not None else "")


def write_claims(terminalreporter, records: Iterable[dict], environment: dict | None) -> None:
    """One line per item that carries a claim verdict, sorted by nodeid; nothing if none does."""
    claims = [i for i in records if i.get("claim_verdict")]
    if not claims:
        return
    terminalreporter.section(SECTION_TITLE)
    env = environment or {}
    terminalreporter.write_line(f"TensorFlow {env.get('tensorflow', '?')}, Keras {env.get('keras', '?')}")
    for item in sorted(claims, key=lambda i: i["nodeid"]):
        terminalreporter.write_line(
            f"{item['claim_verdict']:>6}  {item['case_id']}[{item['variant']}-{item['device']}]: "
            f"article says {_claimed(item['claim'])}; TensorFlow: {_seen(item.get('observed') or {})}")
