"""The request's language: ``?lang=`` (for downloads opened from a link), else ``Accept-Language``."""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class LanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (``Accept-Language`` among ``LANGUAGES``: ``en``, ``zh-hans``; ``zh-CN``
    reads as ``zh-hans``; English by default), with a ``?lang=`` query parameter taking precedence: a link
    to a PDF or a CSV file carries no header. An unknown ``?lang=`` is ignored."""

    def process_request(self, request: HttpRequest) -> None:
        requested = request.GET.get("lang", "")
        if requested and len(requested) <= 16:
            try:
                language = translation.get_supported_language_variant(requested.strip().lower())
            except LookupError:
                language = ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
                return
        super().process_request(request)
