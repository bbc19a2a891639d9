"""Hungarian dates: Django's own, with a short form MiniCRM's users know."""

DATE_FORMAT = "Y. F j."
DATETIME_FORMAT = "Y. F j. H:i"
SHORT_DATE_FORMAT = "Y.m.d."
SHORT_DATETIME_FORMAT = "Y.m.d. H:i"
TIME_FORMAT = "H:i"
