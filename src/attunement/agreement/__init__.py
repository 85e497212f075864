"""Agreement between coders — human and human, human and model — per code and scale.

``attune agree`` is a thin caller of :func:`agreement_report`. Statistics come from kept
libraries (scikit-learn, statsmodels, ``krippendorff``, pingouin: the ``research``
extra); bootstrap intervals are computed for all replicates at once. See
``docs/agreement.md``.
"""

from attunement.agreement.report import agreement_report, to_csv

__all__ = ["agreement_report", "to_csv"]
