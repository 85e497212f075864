"""Report writers: a finished :class:`~attunement.model.Session` in, a document out.

Writers only render what the analyzers put on the session; they never analyze. Each
writer lives in its own module and is looked up by name through :data:`WRITERS`, so
importing this package stays cheap (rich and jinja2 load only when a writer is used).
"""

from attunement.report.base import WRITERS, Writer, get_writer, write_file

__all__ = ["WRITERS", "Writer", "get_writer", "write_file"]
