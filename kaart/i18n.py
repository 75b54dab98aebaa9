"""Dutch first, English one click away. One catalogue per language, shared by pages and scripts.

The language is `?lang=nl|en` (remembered in a cookie), else that cookie, else
KAART_DEFAULT_LANGUAGE.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request

LANGUAGES = ("nl", "en")
COOKIE = "kaart_lang"
CATALOGUE_DIR = Path(__file__).with_name("translations")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """`<lang>.json` plus every `<lang>.<part>.json` (one per part of the app, e.g. nl.beheer.json).
    A key defined twice is a mistake, not an override."""
    merged: dict[str, str] = {}
    for path in [CATALOGUE_DIR / f"{lang}.json", *sorted(CATALOGUE_DIR.glob(f"{lang}.*.json"))]:
        part = json.loads(path.read_text(encoding="utf-8"))
        if clash := merged.keys() & part.keys():
            raise ValueError(f"{path.name} repeats keys: {', '.join(sorted(clash))}")
        merged.update(part)
    return merged


def current_language() -> str:
    if "lang" not in g:
        asked = request.args.get("lang")
        if asked not in LANGUAGES:
            asked = request.cookies.get(COOKIE)
        if asked not in LANGUAGES:
            asked = current_app.config["KAART"].default_language
        g.lang = asked
    return g.lang


def translate(key: str, **values: Any) -> str:
    """The text for `key` in the request's language (Dutch, then the key, as fallbacks). With
    `count=1`, `<key>.one` when the catalogue has it: "1 contribution was published"."""
    if values.get("count") == 1 and f"{key}.one" in catalogue("nl"):
        key = f"{key}.one"
    text = catalogue(current_language()).get(key) or catalogue("nl").get(key) or key
    return text.format(**values) if values else text


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        _=translate, current_language=current_language, LANGUAGES=LANGUAGES
    )

    @app.after_request
    def remember_language(response: Response) -> Response:
        asked = request.args.get("lang")
        if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
            response.set_cookie(
                COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response
