"""Names shared by the plugin's modules, defined once: items write them, the recorder and hooks read them.

``user_properties`` keys travel with each report (also from xdist workers to the controller);
stash keys hold per-session state on ``config.stash``.
"""

from __future__ import annotations

import pytest

from lstm_atlas.plugin.cache import ResultCache

#: ``user_properties`` key of an item's record (what the results file lists under ``items``).
RECORD_KEY = "atlas"
#: ``user_properties`` key of the environment the item ran in (versions, devices).
ENV_KEY = "atlas_env"
#: ``user_properties`` key of ``(case id, case summary)`` for the results file's ``cases``.
CASE_KEY = "atlas_case"

#: ``user_properties`` key: this item's cache entry failed its digest, so it was run again.
CACHE_REJECTED_KEY = "atlas_cache_rejected"
#: ``user_properties`` key: this item's outcome could not be stored in the cache (the message why).
CACHE_WRITE_FAILED_KEY = "atlas_cache_write_failed"

#: Set once the first case file is collected: markers registered, TensorFlow's logs quietened.
ACTIVE_KEY = pytest.StashKey[bool]()
#: The ``--atlas-logical-cpus`` split that could not be made; ends the session at collection's end.
SPLIT_ERROR_KEY = pytest.StashKey[str]()
#: The session's result cache, or ``None`` under ``--atlas-no-cache``.
CACHE_STASH = pytest.StashKey[ResultCache | None]()
#: Case id -> the file that declared it first in this session: a second file of one id is invalid.
SEEN_IDS_KEY = pytest.StashKey[dict]()
