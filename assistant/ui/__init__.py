"""The web app (Gradio): ``app`` holds its events and layout, ``render`` how answers and sources are shown.

The library below knows nothing of it.
"""

from assistant.api import rendered_prefix
from assistant.ui.app import App, build_app, discard_rendered, discard_upload, launch, serve
from assistant.ui.render import link_markers, render_sources, source_line, status_badge

__all__ = [
    "App",
    "build_app",
    "discard_rendered",
    "discard_upload",
    "launch",
    "link_markers",
    "render_sources",
    "rendered_prefix",
    "serve",
    "source_line",
    "status_badge",
]
