"""Dates as Japanese CS teams write them (FORMAT_MODULE_PATH in settings).

Prose and headings use DATE_FORMAT (`{{ day|date }}` → 2026年4月1日); tables use SHORT_DATE_FORMAT
(`{{ day|date:"SHORT_DATE_FORMAT" }}` → 2026/04/01), which sorts and lines up. Machine values (date
inputs, data attributes, CSV, the API) stay ISO 8601 and do not use these.
"""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y/m/d"
DATETIME_FORMAT = "Y年n月j日 G:i"
SHORT_DATETIME_FORMAT = "Y/m/d G:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
TIME_FORMAT = "G:i"
