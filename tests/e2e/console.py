"""The staff console on the local stack, shared by the end-to-end tests: a staff
account made in the stack's Firestore, and signing it in through the pages in a real
browser, the code typed from what an authenticator app would show (pyotp)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared import wiring
from shared.domain.report import Role
from tests.functional.console_support import PASSWORD, Member, new_member
from tools.stack import LocalStack


@contextmanager
def _on_stack(stack: LocalStack) -> Iterator[None]:
    """The in-process wiring pointed at the stack's emulators, for the duration."""
    wanted = stack.emulators.env()
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    wiring.reset()
    try:
        yield
    finally:
        wiring.reset()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def staff_member(
    stack: LocalStack, role: Role, agency_id: str, *, second_factor: bool | None = None
) -> Member:
    """A new account in the stack's Firestore, ready to sign in (see new_member)."""
    with _on_stack(stack):
        return new_member(role, agency_id, second_factor=second_factor)


def sign_in(page: Any, stack: LocalStack, member: Member, next_path: str = "") -> None:
    """Sign ``member`` in as a person would: e-mail, password, Enter; then the code."""
    query = f"?next={next_path}" if next_path else ""
    page.goto(f"{stack.urls['console']}/masuk{query}")
    page.get_by_label("Alamat e-mail").fill(member.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if "/masuk/kode" in page.url:
        page.get_by_label("Kode dari aplikasi autentikator").fill(member.code())
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert "/masuk" not in page.url, page.url
