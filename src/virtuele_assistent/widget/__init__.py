"""The chat widget: a TypeScript web component (src/, built into dist/widget.js) and what the API
serves it: its configuration per tenant and the built bundle."""

from virtuele_assistent.widget.bundle import BUNDLE_PATH, WidgetBundle, WidgetNotBuilt
from virtuele_assistent.widget.config import WidgetConfig, WidgetSettings, widget_config

__all__ = ["BUNDLE_PATH", "WidgetBundle", "WidgetConfig", "WidgetNotBuilt", "WidgetSettings", "widget_config"]
