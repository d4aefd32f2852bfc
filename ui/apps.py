from django.apps import AppConfig


class UiConfig(AppConfig):
    """Presentation pieces every app may use: SVG charts, number and money formatting, CSV/XLSX
    writing. Imports nothing of the project's, so that any floor can use it."""

    name = "ui"
    label = "ui"
