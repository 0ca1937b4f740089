"""What a layer sees in a photo: the activation grid, the photo's top filters, neuron groups, pictures
for them, and the sheet and JSON of `featviz dissect`."""

from featviz_core.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("Cell", "Grid", "PhotoActivations", "Ranked", "photo_activations", "pool"), "grid"),
    **dict.fromkeys(("Factorization", "NeuronGroup", "factorize", "neuron_groups"), "groups"),
    **dict.fromkeys(("Dissection", "dissect", "dissection_json"), "report"),
    **dict.fromkeys(("GROUP_COLOURS", "cell_strength", "grid_mosaic", "group_overlay", "heat_overlay",
                     "one_group_overlay", "upsampled"), "overlays"),
    **dict.fromkeys(("FilterPicture", "filter_picture", "model_atlases"), "pictures"),
    **dict.fromkeys(("dissection_sheet",), "sheet"),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)  # loaded on first use
