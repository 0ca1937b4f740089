"""Never show a traceback: unexpected errors become one short st.error (details go to the server log)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

LOG = logging.getLogger("featviz.dashboard")


@contextmanager
def user_facing_errors(where: str) -> Iterator[None]:
    """Show an unexpected exception in `where` as a short message, log its traceback.

    Streamlit's own rerun/stop signals derive from BaseException and pass through untouched.
    """
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the last line of defence for the user
        LOG.exception("Unexpected error in %s", where)
        detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else "no details"
        st.error(f"Something went wrong in {where}: {error.__class__.__name__}: {detail}. "
                 "Try other settings, or reload the page.", icon=":material/error:")
