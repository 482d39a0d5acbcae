"""Domain errors of the calculation engine.

Each class has a stable ``code`` that clients may rely on. Errors know nothing of HTTP: the
Django layer maps them to RFC 9457 problem documents. Input errors carry the JSON pointer of
the offending field so that a client can show the message next to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: ``pointer`` is a JSON pointer into the request body."""

    pointer: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "detail": self.detail}


class AccountingError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "accounting_error"
    title = "The calculation could not be made"

    def __init__(self, detail: str, errors: Iterable[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors)


class InvalidInput(AccountingError):
    """The request contains one or more invalid fields (see ``errors``)."""

    code = "invalid_input"
    title = "Invalid input"


class UnknownMethodology(AccountingError):
    """No published methodology has the requested code."""

    code = "unknown_methodology"
    title = "Unknown methodology"


class MethodologyDataError(AccountingError):
    """A methodology bundle is incomplete or inconsistent (raised at load time, never per request)."""

    code = "methodology_data_error"
    title = "Methodology data is inconsistent"


class RegistryError(AccountingError):
    """A method was registered twice, or a methodology names a method that is not registered."""

    code = "registry_error"
    title = "Method registry is inconsistent"
