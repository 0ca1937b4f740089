"""The featviz dashboard: a Streamlit app (`streamlit run dashboard/app.py`) over featviz_core."""
