"""From a pasted error to the known failure mode, its cause and a verified fix.

``index`` builds and loads the JSON index, ``score`` ranks cases for a query, ``render``
words the answer, ``command`` wires ``lstm-atlas explain``; ``snippet`` renders a fix as code.
"""
