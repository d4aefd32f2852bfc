"""Dates for English pages (FORMAT_MODULE_PATH in settings).

Day-month-year with the month's short name (1 Apr 2026) reads the same to British, American and
Japanese readers, which "4/1/2026" does not; tables use ISO (2026-04-01), which sorts and lines up.
Machine values (date inputs, data attributes, CSV, the API) stay ISO 8601 and do not use these.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
TIME_FORMAT = "H:i"
