"""The sidebar and its inputs: model, layer, filter, preset, the advanced fields, the view in the URL and
model uploads."""
