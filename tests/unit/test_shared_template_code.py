"""The tests' apps share Jinja's compiled templates (adminapp.testing's
``running_app``): a template one app compiled is not compiled again by the
next, renders the same, and a template whose source changed is compiled anew."""

from __future__ import annotations

import pytest
from jinja2 import Environment, FileSystemLoader

from adminapp.testing import _SharedTemplateCode


def _environment(folder, cache) -> Environment:
    return Environment(loader=FileSystemLoader(folder), bytecode_cache=cache, autoescape=True)


def _refuse_to_compile(environment: Environment, monkeypatch) -> None:
    def compile_(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(environment, "compile", compile_)


def test_the_next_app_renders_from_the_shared_code(tmp_path, monkeypatch):
    cache = _SharedTemplateCode()
    (tmp_path / "page.html").write_text("<p>{{ name }}</p>")
    first = _environment(tmp_path, cache).get_template("page.html").render(name="<b>")

    later = _environment(tmp_path, cache)
    _refuse_to_compile(later, monkeypatch)
    assert later.get_template("page.html").render(name="<b>") == first == "<p>&lt;b&gt;</p>"


def test_a_changed_template_is_compiled_again(tmp_path, monkeypatch):
    cache = _SharedTemplateCode()
    (tmp_path / "page.html").write_text("<p>{{ name }}</p>")
    _environment(tmp_path, cache).get_template("page.html").render(name="a")

    (tmp_path / "page.html").write_text("<h1>{{ name }}</h1>")
    later = _environment(tmp_path, cache)
    _refuse_to_compile(later, monkeypatch)
    with pytest.raises(AssertionError, match="compiled again"):
        later.get_template("page.html")
    assert _environment(tmp_path, cache).get_template("page.html").render(name="a") == (
        "<h1>a</h1>"
    )
