"""Attunement: see and repair ruptures in the therapeutic alliance.

Data flows one way: a reader turns a transcript into a :class:`~attunement.model.Session`,
analyzers add annotations to it, writers render it. The library never imports the CLI,
a store, a web app or a batch runner.
"""

from attunement.model import Annotation, Episode, Role, Session, Speaker, Utterance

__all__ = ["Annotation", "Episode", "Role", "Session", "Speaker", "Utterance", "__version__"]
__version__ = "0.1.0"
