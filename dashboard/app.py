"""featviz dashboard: see what the filters of a convolutional network have learned.

Run with `streamlit run dashboard/app.py`. This entry point builds the navigation and the shared
sidebar; each page is a short script in app_pages/.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
# `streamlit run` puts this script's folder first on sys.path: its modules would be top-level names there
# (`server`, `store`, `fields`, ...) that shadow installed packages. They are the package `dashboard`, found
# from the repository root (as is featviz_core, even where it is not installed: Community Cloud).
sys.path[:] = [path for path in sys.path if os.path.realpath(path or os.curdir) != HERE]
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from dashboard import guard  # noqa: E402
from featviz_core.memory import tune_heap  # noqa: E402

tune_heap()  # glibc's heap settings for this server process, before TensorFlow starts its threads

st.set_page_config(page_title="featviz: what do CNN filters see?", page_icon=":material/visibility:",
                   layout="wide")

PAGES = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/search:", default=True,
            url_path="home"),  # served at /; the pathname it reserves must not be "explore" (EXPLORE_BY_NAME)
    st.Page("app_pages/compare.py", title="Compare start images", icon=":material/compare:", url_path="compare"),
    st.Page("app_pages/methods.py", title="Compare methods", icon=":material/science:", url_path="methods"),
    st.Page("app_pages/gallery.py", title="Layer gallery", icon=":material/grid_view:", url_path="gallery"),
    st.Page("app_pages/photo.py", title="What it sees in your photo", icon=":material/photo_camera:", url_path="photo"),
    st.Page("app_pages/how_it_works.py", title="How it works", icon=":material/school:", url_path="how-it-works"),
]


def _explore_by_name() -> None:
    """/explore, the name a visitor may guess from the menu, opens Explore at its home (/) with the link's values."""
    st.switch_page(PAGES[0], query_params=st.query_params.to_dict())


EXPLORE_BY_NAME = st.Page(_explore_by_name, title="Explore", url_path="explore", visibility="hidden")

page = st.navigation([*PAGES, EXPLORE_BY_NAME])
# TensorFlow-free: it loads on the first live render, not to browse the atlas
from dashboard.controls import sidebar  # noqa: E402

with guard.user_facing_errors("the sidebar"):
    sidebar.render(page.url_path)
with guard.user_facing_errors(page.title):
    page.run()
