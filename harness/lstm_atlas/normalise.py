"""One message normaliser for ``lstm-atlas explain`` and the fuzz map's signatures.

Two raisings of the same cause differ in layer names, shapes, ranks, numbers, dtypes,
paths and the wrapping each Keras/TensorFlow version adds. :func:`message_template`
abstracts those into placeholders so equal causes give equal text, and
:func:`signature` pairs that text with the exception class. Explain and the fuzzer
must both call these functions: a second normaliser would let the map and the
explainer disagree on what counts as "the same error".

:func:`message_core` first drops the wrapping every Keras version adds (the results file,
the merged matrix and the explain index all store that core); the engine calls it when it
records an exception, so text rules live here and nowhere else.

Users paste whole tracebacks (Jupyter, IPython, plain Python, Windows paths, TF log
lines), so :func:`split_traceback` first finds the raised class and its message in
that text.
"""

from __future__ import annotations

import re

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


_CORE_FRAME_RE = re.compile(r'^\s*File ".*", line \d+')
_CORE_TRAILERS = ("Arguments received by", "Call arguments received by")
_CORE_WRAPPERS = ("in user code:", "Exception encountered when calling", "Graph execution error:", "Detected at node",
             "Node:", "[[", "...[truncated]...")


def message_core(message: str) -> str:
    """The sentence that names the problem, without the wrapping both Keras versions add.

    Keras 2 graph errors start with ``in user code:`` and a traceback; both Keras versions
    wrap layer errors in "Exception encountered when calling ..." and end with the call
    arguments. What is left is what a person (or ``lstm-atlas explain``) needs.
    """
    lines = message.splitlines()
    kept: list[str] = []
    skip_code_line = False
    for line in lines:
        stripped = line.strip()
        if any(stripped.startswith(t) for t in _CORE_TRAILERS):
            break
        if _CORE_FRAME_RE.match(line):
            skip_code_line = True
            continue
        if skip_code_line:
            skip_code_line = False
            continue
        if not stripped or any(stripped.startswith(w) for w in _CORE_WRAPPERS):
            continue
        if re.match(r"^[A-Za-z_.]*(Error|Exception): Exception encountered when calling", stripped):
            continue
        kept.append(stripped)
    core = " ".join(kept).strip()
    # Keras 2 repeats the class name in front of the re-raised message ("ValueError: ...")
    core = re.sub(r"^[A-Za-z_.]*(Error|Exception): ", "", core)
    return core or " ".join(message.split())



#: dtype names TensorFlow, Keras and numpy print; longest first so float16 wins over float.
DTYPES = sorted({
    "bfloat16", "float16", "float32", "float64", "half", "float", "double",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "string", "str", "object", "variant", "resource",
    "qint8", "quint8", "qint32", "tf.float32", "tf.float16", "tf.float64", "tf.int32", "tf.int64",
    "tf.string", "tf.bool",
    "DT_FLOAT", "DT_INT32", "DT_INT64", "DT_HALF", "DT_DOUBLE", "DT_STRING",
}, key=len, reverse=True)

#: TensorFlow status names as C++ logs print them, and the Python class each raises.
TF_STATUS = {
    "Invalid argument": "InvalidArgumentError", "INVALID_ARGUMENT": "InvalidArgumentError",
    "Unknown": "UnknownError", "UNKNOWN": "UnknownError", "Internal": "InternalError", "INTERNAL": "InternalError",
    "Failed precondition": "FailedPreconditionError", "FAILED_PRECONDITION": "FailedPreconditionError",
    "Not found": "NotFoundError", "NOT_FOUND": "NotFoundError", "Unimplemented": "UnimplementedError",
    "UNIMPLEMENTED": "UnimplementedError", "Resource exhausted": "ResourceExhaustedError",
    "RESOURCE_EXHAUSTED": "ResourceExhaustedError",
}

_SUBS: list[tuple[re.Pattern, str]] = [
    # graph-execution furniture: node and op references carry names, not causes
    (re.compile(r"\{\{function_node [^}]*\}\}"), " "),
    (re.compile(r"\[\[\{\{node [^}]*\}\}\]\]"), " "),
    (re.compile(r"\{\{node [^}]*\}\}"), "<node>"),
    (re.compile(r"\[Op:__inference_[\w.]*\]"), " "),
    # which kernel reported it (AddV2 or Mul for one broadcast) is not the cause
    (re.compile(r"\[Op:\w+\](?:\s*name:\s*[\w/.\-<>]*)?"), " "),
    (re.compile(r"\bcannot compute \w+ as input\b"), "cannot compute <op> as input"),
    (re.compile(r"\bloc\((?:[^()]|\([^()]*\))*\)"), "<loc>"),
    # reprs of values: nested lists and numpy arrays of numbers, datasets, tensors, objects, classes
    # "x=[[1, 2]] (of type <class 'list'>)": which argument (x or y) is the cause; its value is not
    (re.compile(r"(?<=: )(\w+=)?[^:\n]*? \(of type <class '[^']*'>\)"), lambda m: f"{m.group(1) or ''}<value>"),
    (re.compile(r"(?<=value )'[^'\n]*'"), "<value>"),
    (re.compile(r"\barray\(\[[^()]*\](?:,\s*dtype=\w+)?\)"), "<value>"),
    (re.compile(r"(?<=input )\[\](?= with name)"), "<value>"),
    (re.compile(r"\[\s*\[[\[\]\d\s.,eE+\-j]*\]\s*\]"), "<value>"),
    (re.compile(r"\[\s*-?[\d.eE+\-j]+(?:\s+-?[\d.eE+\-j]+)+\s*\]"), "<value>"),  # numpy's [1 2 3]
    (re.compile(r"<_?\w*Dataset[^<>]*>"), "<dataset>"),
    (re.compile(r"\btf\.Tensor\((?:[^()]|\([^()]*\))*\)"), "<tensor>"),
    (re.compile(r"<KerasTensor[^>]*>"), "<tensor>"),
    (re.compile(r"\b(?:Keras)?Tensor\(\"[^\"]*\",(?:[^()]|\([^()]*\))*\)"), "<tensor>"),
    (re.compile(r"<(?:tf\.)?Tensor:?(?:[^<>]|<\w+>)*>"), "<tensor>"),
    (re.compile(r"<tf\.Variable[^<>]*>"), "<tensor>"),
    (re.compile(r"\[(?:<tensor>,?\s*)+\]"), "<tensors>"),
    (re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>"), "<object>"),
    (re.compile(r"<[A-Z]\w* name=[^>]*>"), "<object>"),
    (re.compile(r"<class '[\w.]+'>"), "<class>"),
    # file paths (POSIX, Windows, ~) with their optional :line or (line), and memory addresses
    (re.compile(r"(?:[A-Za-z]:|~|\.)?[\w.\-+]*(?:[\\/][\w.\-+ ]+)+\.(?:py|pyc|h5|keras|tflite|pb|json|cc|c|h|cpp|txt)\b"
                r"(?:\(\d+\)|:\d+(?::\d+)?)?"), "<path>"),
    (re.compile(r"<(?:frozen runpy|unknown|ipython-input[\w-]*)>(?::\d+(?::\d+)?)?"), "<path>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<addr>"),
    # shapes: (None, 5, 1), [32, 10], TensorShape([...]), shape=(...)
    (re.compile(r"TensorShape\(\[[^\]]*\]\)"), "<shape>"),
    (re.compile(r"\((?:\s*(?:None|\?|-?\d+L?|Dimension\(\w+\))\s*,)+\s*(?:None|\?|-?\d+L?|Dimension\(\w+\))?\s*\)"),
     "<shape>"),
    (re.compile(r"\[(?:\s*(?:None|\?|-?\d+)\s*,)+\s*(?:None|\?|-?\d+)\s*\]"), "<shape>"),
    (re.compile(r"(?<![\w])\(\)"), "<shape>"),
    # keyword-argument names are API words that tell causes apart ({'time_major': True} is not
    # {'batch_input_shape': ...}): unquote them before quoted names become <name>
    (re.compile(r"""([{,]\s*)['"]([A-Za-z_]\w*)['"](?=\s*:)"""), r"\1\2"),
    (re.compile(r"""(argument[s]? not understood:?['"]?,?\s*)['"]([A-Za-z_]\w*)['"]""", re.I), r"\1\2"),
    # Python type and attribute names in builtin errors are the cause, not a user's name:
    # 'Sequential' object has no attribute 'reset_states' is not 'tuple' object has no attribute 'rank'
    (re.compile(r"""['"]([A-Za-z_][\w.]*)['"] object\b"""), r"\1 object"),
    (re.compile(r"""\battribute ['"]([A-Za-z_]\w*)['"]"""), r"attribute \1"),
    # quoted names: 'lstm_3', "sequential_1/lstm/..." -> <name>
    (re.compile(r"'[^'\s]{1,200}'"), "<name>"),
    (re.compile(r"'[^'\n]{0,200}\([^'\n]{0,300}'"), "<name>"),  # quoted code: 'cudnnSetRNN...( a, b )'
    (re.compile(r'"[^"\s]{1,200}"'), "<name>"),
    # unquoted layer names after the words Keras puts before them
    (re.compile(r"\b(of|with|calling|for) layer (?!<)[\w/.\-]+"), r"\1 layer <name>"),
    (re.compile(r"\bexpected (?!<|ndim|shape|min_ndim|axis|input|a\b|one\b|the\b)\w+ to have\b"),
     "expected <name> to have"),
    # the SavedModel functions named after a layer ("lstm_cell_2_layer_call_fn"): its number is the order
    # it was made in, not part of the message
    (re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*)_\d+(?=_layer_call_)"), r"\1"),
    # numbers (floats before ints)
    (re.compile(r"(?<![\w<])-?\d+\.\d+(?:e[-+]?\d+)?(?![\w>])", re.I), "<num>"),
    (re.compile(r"(?<![\w<])-?\d+(?![\w>])"), "<num>"),
]
#: One element of a printed value (a nested list, a numpy array, a tuple of numbers): numbers, the
#: words numpy and Python print for special values, short quoted strings, brackets and separators.
_VALUE_ITEM = r"(?:[\[\]()\s,.\d+\-]|e[+\-]?\d|j\b|nan\b|inf\b|True\b|False\b|None\b|b?'[^'\n]{0,40}')"
#: A nested value repr ("[[1, 2], [3, 4]]", "[[[0.1 0.2] ...", "[(1, 2), ...") up to where it ends or the
#: message was cut: its size and numbers differ per example, the cause does not.
_NESTED_VALUE_RE = re.compile(r"\[\s*[\[(]" + _VALUE_ITEM + "*")
#: Value reprs and graph names, abstracted before anything else reads the text: their insides
#: (numbers, quotes, layer names) would otherwise be read as shapes, names and numbers one by one.
_REPR_SUBS: list[tuple[re.Pattern, str]] = [
    # "for '{{node sequential_1/lstm/strided_slice}} = StridedSlice[...](...)' with input shapes: ...":
    # which graph node reported it, with its inputs' names
    (re.compile(r"\s*\bfor '\{\{node [^}]*\}\}.*", re.S), ""),
    (re.compile(r"<(?:tf\.)?Variable\b(?:[^<>]|<[^<>]*>)*(?:>|$)"), "<variable>"),
    (re.compile(r"\btf\.Tensor\((?:[^()]|\([^()]*\))*(?:\)|$)"), "<tensor>"),
    # Keras 2's data adapter error prints a list's element types recursively, escaping quotes per level;
    # the classes it names (of x, then of y) are the cause
    (re.compile(r"\(<class '(\w+)'> containing values of types \{.*?(?:\}\)(?=, <class)|$)"), r"<\1 of values>"),
    (re.compile(r"(?<=can handle input: )<class '(?:\w+\.)*(\w+)'>"), r"<\1>"),
    (re.compile(r"(?<=can handle input: <)(\w+)((?: of values)?>, )<class '(?:\w+\.)*(\w+)'>"), r"\1\2<\3>"),
    # what a layer received, when it received something: the layer names and shapes inside vary
    (re.compile(r"(Inputs received: )\[(?!\]).*"), r"\1<tensors>"),
    # graph and variable paths: sequential_3/lstm/lstm_cell/kernel, while/ReadVariableOp_4:0 (never file paths)
    (re.compile(r"(?<![\w/.~\\-])[A-Za-z_][\w.\-]*(?:/[\w.\-]+)+(?::\d+)?(?![\w/\\])"
                r"(?<!\.py)(?<!\.h5)(?<!\.keras)(?<!\.json)(?<!\.cc)(?<!\.txt)"), "<graph_name>"),
]


def _value_repl(match: re.Match) -> str:
    """The value, without the separators and opening bracket after it; a value the message was cut in ends it."""
    if match.end() == len(match.string):
        return "<value>"
    text = match.group(0)
    kept = text.rstrip(" ,\n\t(")
    return "<value>" + text[len(kept):]


def _abstract_reprs(text: str) -> str:
    for pattern, repl in _REPR_SUBS:
        text = pattern.sub(repl, text)
    text = _NESTED_VALUE_RE.sub(_value_repl, text)
    return text.replace("<graph_name>", "<name>")


#: After every rule: one input is one input, however its repr was printed or cut.
_VALUE_TAIL_SUBS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\binput (?:<tensor>|<value>|<num>|<name>) with name\b"), "input <value> with name"),
]
_DTYPE_RE = re.compile(r"(?<![\w<.])(?:" + "|".join(re.escape(d) for d in DTYPES) + r")(?![\w>])"
                       r"(?!(?<=object)\s+(?:is|has)\b)")  # "NoneType object is not subscriptable": a Python object
_LAYER_NAME_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*_\d+\b")
_SPACE_RE = re.compile(r"\s+")
_RANK_RE = re.compile(r"\b((?:min_|max_)?ndim)=(\d)\b")


_SHAPE_TUPLE_RE = re.compile(r"[(\[]((?:\s*(?:None|\?|-?\d+)L?\s*,)+\s*(?:None|\?|-?\d+)?L?\s*)[)\]]")
_EXPECTED_RE = re.compile(r"\bexpected\b", re.I)


def _dims(text: str) -> list:
    return [None if d.strip() in ("None", "?") else int(d.strip().rstrip("L"))
            for d in text.split(",") if d.strip()]


def shape_difference(core: str) -> str | None:
    """Which axis an expected-vs-found shape message disagrees on: the cause, once shapes are abstracted.

    ``features`` (last axis), ``timesteps`` (the one before), ``rank`` or ``other``; None when
    the message does not compare two shapes. Axes are aligned from the right, so
    "expected (60, 1), got (60, 5)" and "expected shape=(None, 5, 3), found shape=(None, 5, 4)"
    agree; None (any size) matches every size.
    """
    if re.search(r"expected axis -1 of input shape", core):
        return "features"
    m = _EXPECTED_RE.search(core)
    if not m:
        return None
    after = [_dims(t.group(1)) for t in _SHAPE_TUPLE_RE.finditer(core, m.end())]
    if len(after) < 2:
        return None
    expected = after[0]
    found = next((f for f in reversed(after[1:]) if f != expected), None)
    if found is None:
        return None
    if len(expected) != len(found):
        return "rank"
    differ = [i for i in range(1, len(expected) + 1)
              if expected[-i] is not None and found[-i] is not None and expected[-i] != found[-i]]
    if differ == [1]:
        return "features"
    if differ == [2]:
        return "timesteps"
    return "other" if differ else None


#: Longest core sentence templated. Several rules below (paths, shapes, numpy lists) cost time
#: quadratic in the length of a run they scan and fail on; no message TensorFlow raises for a case
#: comes near this (the matrix stores at most 600 characters), and a pasted 200,000-character line
#: would otherwise take minutes. Everything after it names nothing a template keeps.
MAX_CORE_CHARS = 4000


def message_template(message: str) -> str:
    """The message with names, shapes, numbers, dtypes, paths and wrapping abstracted.

    Accepts a bare message or a whole pasted traceback; only its core sentence is kept. Where
    the message compares an expected and a found shape, the disagreeing axis is appended as
    ``<diff_features>``, ``<diff_timesteps>``, ``<diff_rank>`` or ``<diff_other>``.
    """
    core = message_core(_clean_lines(split_traceback(message or "")[1]))[:MAX_CORE_CHARS]
    difference = shape_difference(core)
    text = _LAYER_NAME_RE.sub("<name>", _abstract_reprs(core))
    text = _RANK_RE.sub(r"\1=rank\2", text)  # the ranks are the cause (a missing or an extra axis), keep them
    for pattern, repl in _SUBS:
        text = pattern.sub(repl, text)
    text = _DTYPE_RE.sub("<dtype>", text)
    text = re.sub(r"(?:<num>\s*,?\s*)+<num>", "<num>", text)
    text = re.sub(r"(?:<(\w+)>\s*,\s*)+<\1>", r"<\1>", text)
    for pattern, repl in _VALUE_TAIL_SUBS:
        text = pattern.sub(repl, text)
    if difference:
        text += f" <diff_{difference}>"
    return _SPACE_RE.sub(" ", text).strip()


def signature(exc_type: str | None, message: str) -> str:
    """``ExceptionClass: template``; the unit that collapses across examples and versions."""
    name = (exc_type or "").rsplit(".", 1)[-1] or "Error"
    return f"{name}: {message_template(message)}"


# --- finding the raised error in a pasted traceback -------------------------------------------

#: "ValueError: ...", "tensorflow.python.framework.errors_impl.InvalidArgumentError: ...".
_HEADER_RE = re.compile(r"^\s*(?:[A-Za-z_][\w]*\.)*(?P<cls>(?:[A-Z]\w*)?(?:Error|Exception|Exit|Warning))"
                        r"(?:\s*\(see above for traceback\))?(?:\s*:\s?(?P<rest>.*))?$")
#: Frames: plain Python, IPython 8 ("File ~/x.py:12, in f"), old Jupyter ("/x.py in f(a, b)").
_FRAME_RES = (
    re.compile(r'^\s*File "[^"]*", line \d+'),
    re.compile(r"^\s*File [~/\\\w.:-][^,]*:\d+, in "),
    re.compile(r"^\s*(?:[A-Za-z]:)?[~/\\<][^ ]*(?:\.py|>) in \S+"),
)
#: Jupyter code context: "---> 18 model.fit(...)", "     17 ", and Python 3.11 caret lines.
_CODE_CONTEXT_RE = re.compile(r"^\s*(?:-+>\s*)?\d+(?:\s|$)|^\s*[\^~]+\s*$")
_LOG_PREFIX_RE = re.compile(r"^\s*(?:\d{4}-\d\d-\d\d[ T][\d:.]+:?\s+)?[IWEF]\d{0,4}\s*(?:[\d:.]+\s+\d+\s+)?"
                            r"[\w/.\-]+\.(?:cc|h|py):\d+\]\s*")
_OP_REQUIRES_RE = re.compile(r"^OP_REQUIRES failed at [\w.]+:\d+\s*:\s*(?P<status>[A-Za-z_ ]+?):\s*(?P<rest>.*)$")
_STATUS_RE = re.compile(r"^(?P<status>" + "|".join(re.escape(s) for s in sorted(TF_STATUS, key=len, reverse=True))
                        + r")\s*:\s*(?P<rest>.+)$")
#: A Jupyter header "ValueError      Traceback (most recent call last)" names the class, no message.
_JUPYTER_HEADER_RE = re.compile(r"^\s*(?P<cls>[A-Z]\w*(?:Error|Exception))\s{2,}Traceback \(most recent call last\)")
#: TF 2.0-2.4 graph errors end with these; what follows them names nodes, not the cause.
_TRAILERS = ("Errors may have originated from an input operation", "Function call stack:",
             "Input Source operations connected to node")
_CHAIN_MARKERS = ("During handling of the above exception", "The above exception was the direct cause")


def _is_frame(line: str) -> bool:
    return any(r.match(line) for r in _FRAME_RES)


def _clean_lines(text: str) -> str:
    """Drop what is never part of a message: TF log prefixes, Jupyter code context, caret lines."""
    out = []
    for line in text.splitlines():
        if line.strip().startswith(_TRAILERS):
            break
        if line.strip() in ("<stack traces unavailable>", "Traceback (most recent call last):"):
            continue
        line = _LOG_PREFIX_RE.sub("", line)
        m = _OP_REQUIRES_RE.match(line.strip())
        if m:
            line = m.group("rest")
        if re.match(r"^\s*[\^~]+\s*$", line):
            continue
        out.append(line)
    return "\n".join(out)


def split_traceback(text: str) -> tuple[str | None, str]:
    """(exception class or None, message) from a bare message or a whole pasted traceback.

    The raised error is the last ``SomeError: ...`` line outside a frame's code line, with
    the lines after it (Keras 3 and TF graph errors continue over several lines). Without
    such a line, a TF log line (``OP_REQUIRES failed at ...: Invalid argument: ...``) or
    the text itself is the message.
    """
    text = strip_ansi(text or "").replace("\r\n", "\n").replace("\r", "\n")
    # pasted into Markdown: **bold** class names, ``` fences
    text = "\n".join(line for line in text.replace("**", "").split("\n") if not line.strip().startswith("```"))
    lines = text.split("\n")
    header_at = None
    jupyter_cls = None
    after_frame = False
    for i, line in enumerate(lines):
        if _is_frame(line):
            after_frame = True
            continue
        if after_frame:  # the code line under a frame may itself look like "raise ValueError(...)"
            after_frame = False
            if line.startswith((" ", "\t")):
                continue
        j = _JUPYTER_HEADER_RE.match(line)
        if j:
            jupyter_cls = j.group("cls")
            continue
        m = _HEADER_RE.match(line)
        if m and (m.group("rest") is not None or line.strip() == m.group("cls")) and not _CODE_CONTEXT_RE.match(line):
            header_at = i
    if header_at is not None:
        m = _HEADER_RE.match(lines[header_at])
        rest = lines[header_at + 1:]
        for k, line in enumerate(rest):  # a chained exception after the last header is not ours
            if any(line.strip().startswith(c) for c in _CHAIN_MARKERS):
                rest = rest[:k]
                break
        message = "\n".join([m.group("rest") or ""] + rest).strip()
        return m.group("cls"), _clean_lines(message).strip()
    # no "Error:" line: a TensorFlow log line, or the bare message
    cleaned = _clean_lines(text)
    for k, line in enumerate(lines):
        stripped = _LOG_PREFIX_RE.sub("", line).strip()
        m = _OP_REQUIRES_RE.match(stripped) or _STATUS_RE.match(stripped)
        if m:
            more = []  # the status message may go on over the next lines, up to the next log line
            for following in lines[k + 1:]:
                if not following.strip() or _LOG_PREFIX_RE.match(following):
                    break
                more.append(following.strip())
            return TF_STATUS.get(m.group("status").strip(), jupyter_cls), " ".join([m.group("rest").strip()] + more)
    kept, after_frame = [], False
    for line in cleaned.split("\n"):
        if _is_frame(line):
            after_frame = True
            continue
        if after_frame and line.startswith((" ", "\t")):  # the frame's code line
            after_frame = False
            continue
        after_frame = False
        if not _CODE_CONTEXT_RE.match(line):
            kept.append(line)
    return jupyter_cls, "\n".join(kept).strip()
