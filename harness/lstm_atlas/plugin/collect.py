"""Collection: a case file is a ``pytest.File`` that yields one item per variant and device.

A file that cannot be loaded or prepared yields one ``<stem>[invalid]`` item instead, so
every other file still runs; so does a file that resolves outside the rootdir (a symlink to
a case elsewhere is never run) and a second file declaring an id already collected (two
files of one id would share one report cell). Items whose result is in the cache are collected with it, and
TensorFlow is not imported for a file whose items are all cached.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_atlas.case.library import duplicate_id_error
from lstm_atlas.case.schema import VARIANTS
from lstm_atlas.case.validate import load_case
from lstm_atlas.errors import CaseError
from lstm_atlas.plugin import cache
from lstm_atlas.plugin.items import CaseItem, InvalidCaseItem
from lstm_atlas.plugin.keys import CACHE_REJECTED_KEY, CACHE_STASH, SEEN_IDS_KEY
from lstm_atlas.plugin.session import session_environment


def device_ids(config) -> list[str]:
    """The device ids items are parametrised by: ``--atlas-devices``, with ``cpu`` split by ``--atlas-logical-cpus``."""
    kinds = [k.strip() for k in config.getoption("atlas_devices").split(",") if k.strip()]
    n = config.getoption("atlas_logical_cpus")
    out = []
    for kind in kinds:
        if kind == "cpu" and n > 1:
            out.extend(f"cpu{i}" for i in range(n))
        else:
            out.append(kind)
    return out


class CaseFile(pytest.File):
    """A YAML case file: loaded and prepared once, then one item per variant and device."""

    def collect(self):
        try:
            self._inside_rootdir()
            case = load_case(self.path)
            duplicate_id_error(case, self.config.stash.setdefault(SEEN_IDS_KEY, {}))
            keys, reused = self._cached(case)
            prepared = dict.fromkeys(VARIANTS)
            if not keys or len(reused) < len(keys):  # something to run: TensorFlow is needed
                # Resolve layer/optimizer/loss names now, so a typo is one error for the file.
                session_environment(self.config)
                from lstm_atlas.engine.execute import prepare

                prepared = {variant: prepare(case, variant) for variant in VARIANTS}
        except pytest.UsageError:
            return  # reported once for the session by pytest_collection_modifyitems
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, it fails alone
            if not isinstance(exc, CaseError):
                exc = CaseError(f"cannot prepare this case ({type(exc).__name__}: {exc})", path=str(self.path))
            yield InvalidCaseItem.from_parent(self, name=f"{self.path.stem}[invalid]", error=exc)
            return
        for variant in VARIANTS:
            for device in device_ids(self.config):
                item = CaseItem.from_parent(self, name=f"{case.id}[{variant}-{device}]", case=case,
                                            variant=variant, device=device, prepared=prepared[variant],
                                            cache_key=keys.get((variant, device)),
                                            cached=reused.get((variant, device)))
                if (key := keys.get((variant, device))) is not None and key in self.config.stash[CACHE_STASH].rejected:
                    item.user_properties.append((CACHE_REJECTED_KEY, key))
                item.add_marker("atlas")
                item.add_marker(case.family)
                for tag in case.tags:
                    self.config.addinivalue_line("markers", f"{tag}: case tag")
                    item.add_marker(tag)
                yield item

    def _inside_rootdir(self) -> None:
        """Refuse a file that resolves outside the rootdir: its content is nobody's review."""
        resolved = Path(self.path).resolve()
        root = Path(self.config.rootpath).resolve()
        if not resolved.is_relative_to(root):
            raise CaseError(f"resolves to {resolved}, outside the rootdir {root}; a case outside the project "
                            "is not run (copy it in instead of linking it)", path=str(self.path))

    def _cached(self, case) -> tuple[dict, dict]:
        """Cache keys of this file's items, and the entries already stored for them."""
        store = self.config.stash[CACHE_STASH]
        if store is None:
            return {}, {}
        options = cache.outcome_options(self.config)
        content = Path(case.path).read_bytes()
        keys = {(variant, device): cache.item_key(content, variant, device, options)
                for variant in VARIANTS for device in device_ids(self.config)}
        reused = {slot: entry for slot, key in keys.items() if (entry := store.get(key)) is not None}
        return keys, reused
