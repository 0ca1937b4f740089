"""featviz dashboard: see what the filters of a convolutional network have learned.

Run with `streamlit run dashboard/app.py`. This entry point builds the navigation and the shared
sidebar; each page is a short script in app_pages/.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for position, path in enumerate((HERE, HERE.parent)):  # dashboard modules; featviz_core even if not installed
    if str(path) not in sys.path:
        sys.path.insert(position, str(path))

import streamlit as st  # noqa: E402

import guard  # noqa: E402
from featviz_core.memory import tune_heap  # noqa: E402

tune_heap()  # glibc's heap settings for this server process, before TensorFlow starts its threads

st.set_page_config(page_title="featviz: what do CNN filters see?", page_icon=":material/visibility:",
                   layout="wide")

PAGES = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/search:", url_path="explore", default=True),
    st.Page("app_pages/compare.py", title="Compare start images", icon=":material/compare:", url_path="compare"),
    st.Page("app_pages/methods.py", title="Compare methods", icon=":material/science:", url_path="methods"),
    st.Page("app_pages/gallery.py", title="Layer gallery", icon=":material/grid_view:", url_path="gallery"),
    st.Page("app_pages/how_it_works.py", title="How it works", icon=":material/school:", url_path="how-it-works"),
]

page = st.navigation(PAGES)
import sidebar  # noqa: E402  (TensorFlow-free: it loads on the first live render, not to browse the atlas)

with guard.user_facing_errors("the sidebar"):
    sidebar.render()
with guard.user_facing_errors(page.title):
    page.run()
