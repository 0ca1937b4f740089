"""Plain settings for tests of the ascent's mechanics: featviz 0.5's bare `RenderSettings()` (plain pixels, the
classic RMS step, no transforms, no rescue, no rivals term), now that `RenderSettings()` is the default recipe."""

from featviz_core.settings import DEFAULTS_OF_0_5

PLAIN = {**DEFAULTS_OF_0_5, "rivals": 0.0, "rescue": False}
