"""Numbers from outside, bounded before they are converted.

`Decimal("1e1000000")` is parsed in a microsecond, but `int()` of it builds a million-digit integer:
25 s of CPU in the web worker that tried, while the client waited and then gave up. Every number
that comes from outside (a tracking message's trait, an import cell, a segment rule's value) is
converted here: the length of its text, its exponent and the range of the column it is meant for
are checked on the Decimal, whose comparisons look at the exponent first and cost nothing however
large the number is; only a number known to fit is then turned into an int.

The ground floor: imports nothing of ours, so every app can use it.
"""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

# The range Django guarantees for IntegerField and PositiveIntegerField on every database.
INT_MIN = -2_147_483_648
INT_MAX = 2_147_483_647

# No column holds a number written with more characters than this (a 16-digit amount with its
# separators and sign is 25); longer text is refused before Decimal even reads it.
MAX_NUMBER_TEXT = 100


class NumberError(ValueError):
    """The value is not a number the target column can hold. `code` says why:
    not_a_number, too_long, not_whole or out_of_range; the message says it in words."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _as_decimal(value):
    if isinstance(value, bool) or value is None:
        raise NumberError("not_a_number", _("This is not a number."))
    if isinstance(value, int):
        # bit_length() is free; str(int) of a 5000-digit int is refused by Python itself.
        if value.bit_length() > MAX_NUMBER_TEXT * 3:
            raise NumberError("too_long", _("The number is longer than %(max)d characters.") % {"max": MAX_NUMBER_TEXT})
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # inf and nan become Decimal's, refused below as not finite
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise NumberError("too_long", _("The number is longer than %(max)d characters.") % {"max": MAX_NUMBER_TEXT})
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise NumberError("not_a_number", _("This is not a number.")) from None
    else:
        raise NumberError("not_a_number", _("This is not a number."))
    if len(number.as_tuple().digits) > MAX_NUMBER_TEXT:
        raise NumberError("too_long", _("The number is longer than %(max)d characters.") % {"max": MAX_NUMBER_TEXT})
    return number


def _range_error(min_value, max_value):
    if min_value is not None and max_value is not None:
        message = _("The number must be at least %(min)s and at most %(max)s.")
    elif max_value is not None:
        message = _("The number must be at most %(max)s.")
    else:
        message = _("The number must be at least %(min)s.")
    return NumberError("out_of_range", message % {"min": min_value, "max": max_value})


def to_decimal(value, *, max_digits=None, decimal_places=None, min_value=None, max_value=None):
    """A finite Decimal within [min_value, max_value]. With `max_digits` and `decimal_places` (a
    DecimalField's), it is rounded to the places and must fit the field's digits.

    Raises NumberError; never does work that grows with the size of the number.
    """
    number = _as_decimal(value)
    if not number.is_finite():
        raise NumberError("not_a_number", _("This is not a number."))
    if max_digits is not None:
        limit = Decimal(10) ** (max_digits - (decimal_places or 0))
        largest = limit - (Decimal(1).scaleb(-decimal_places) if decimal_places else 1)
        max_value = largest if max_value is None else min(Decimal(max_value), largest)
        min_value = -largest if min_value is None else max(Decimal(min_value), -largest)
    # Compared before any rounding: quantize() of 1e1000000 to cents would ask for a million digits.
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        raise _range_error(min_value, max_value)
    if decimal_places is not None:
        number = number.quantize(Decimal(1).scaleb(-decimal_places))
        if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
            raise _range_error(min_value, max_value)  # 99999999999999.995 rounds up past the column
    return number


def to_int(value, *, min_value=INT_MIN, max_value=INT_MAX):
    """A whole number within [min_value, max_value] (an IntegerField's range by default).

    "4.2e1" and 42.0 are 42; "2.5" is not whole. Raises NumberError.
    """
    number = to_decimal(value, min_value=min_value, max_value=max_value)
    if number != number.to_integral_value():
        raise NumberError("not_whole", _("This is not a whole number."))
    return int(number)
