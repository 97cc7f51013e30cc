"""The case library's regular expressions, matched in linear time by RE2 (PyPI ``google-re2``).

A case's ``expect.match``, ``warns`` and ``no_warns`` patterns are matched against text the
case does not control (TensorFlow's messages, and in ``lstm-atlas explain`` whatever a user
pastes). Python's backtracking ``re`` can take exponential time on a pattern such as
``^(?:.|\\S)*QQQ$``; RE2 never backtracks, so every match here costs time linear in the text.

The rule a case's pattern must follow (:func:`pattern_problem`, enforced by validate):

1. it compiles under Python's ``re`` (the documented syntax) and under RE2 (no
   backreferences, no lookaround);
2. no unbounded repeat (``*``, ``+``, ``{n,}``) contains another repeat or an alternation
   (``(a+)+``, ``(a|aa)*``, ``(?:.|\\S)*``): the shapes that backtrack catastrophically in
   any backtracking engine that later reads the library.
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2

try:  # Python 3.11+: the parser behind re.compile
    from re import _constants as _sre_constants
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants
    import sre_parse as _sre_parser

_REPEATS = {_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT,
            getattr(_sre_constants, "POSSESSIVE_REPEAT", _sre_constants.MAX_REPEAT)}


def _options(ignore_case: bool, dot_all: bool):
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.case_sensitive = not ignore_case
    options.dot_nl = dot_all
    return options


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False, dot_all: bool = False):
    """``pattern`` compiled by RE2 (``re2.error`` if RE2 cannot compile it); ``search`` as in ``re``."""
    return re2.compile(pattern, options=_options(ignore_case, dot_all))


def search(pattern: str, text: str, ignore_case: bool = False, dot_all: bool = False) -> bool:
    """Whether ``pattern`` occurs in ``text``, in time linear in ``text``."""
    return compile_pattern(pattern, ignore_case, dot_all).search(text) is not None


def _nested_repeat(items, inside: bool = False) -> bool:
    for op, av in items:
        if op in _REPEATS:
            _low, high, body = av
            if inside and high > 1:
                return True
            if _nested_repeat(body, inside or high == _sre_constants.MAXREPEAT):
                return True
        elif op == _sre_constants.BRANCH:
            if inside or any(_nested_repeat(branch, inside) for branch in av[1]):
                return True
        elif op == _sre_constants.SUBPATTERN:
            if _nested_repeat(av[-1], inside):
                return True
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            if _nested_repeat(av[1], inside):
                return True
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why a case may not use ``pattern`` (one line), or None when it follows the rule above."""
    try:
        parsed = _sre_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"regular expression does not compile: {exc}"
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        why = exc.args[0] if exc.args else exc
        why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        return (f"regular expression is not supported by RE2, the linear-time engine that matches it "
                f"(no backreferences or lookaround): {why}")
    if _nested_repeat(parsed):
        return ("regular expression can backtrack catastrophically: an unbounded repeat (*, +, {n,}) "
                "contains another repeat or an alternation; write it without the nesting")
    return None
