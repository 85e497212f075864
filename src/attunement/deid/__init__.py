"""De-identification of transcripts for sharing (`attune deid`, docs/deid.md).

Finds names, places, organisations, dates, ages, phone numbers, e-mails, street
addresses, web addresses and record numbers in talk — written or read out, capitalised or
not — and replaces them with placeholders that stay the same across one client's
sessions. Rules and gazetteers only, no statistical model: every decision can be read in
:mod:`~attunement.deid.names`, :mod:`~attunement.deid.patterns` and ``data/deid.toml``.
Needs the ``deid`` extra.
"""

from attunement.deid.group import Replacement, find_group, replace_group
from attunement.deid.patterns import TYPES, Span
from attunement.deid.session import GroupResult, deidentify_group

__all__ = [
    "TYPES",
    "GroupResult",
    "Replacement",
    "Span",
    "deidentify_group",
    "find_group",
    "replace_group",
]
