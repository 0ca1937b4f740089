"""Views and charts the pages share: the scrubber, metrics, downloads, Plotly charts, formulas, gallery
tiles and the similarity of pictures."""
