"""The console's Jinja2 environment (autoescaping on for every template) and how a page is answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from chatkeep import __version__
from chatkeep.dialects.console import markdown

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Autoescaping for every template, whatever its file name: nothing from a user or a model is ever markup.
_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False)
_environment.filters["markdown"] = markdown.render
_environment.globals["version"] = __version__
templates = Jinja2Templates(env=_environment)


def page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render a template; `visitor` in the context fills the navigation and the form key."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
