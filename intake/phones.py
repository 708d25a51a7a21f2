"""Phone numbers as the system stores them."""

import phonenumbers


def normalise_phone(raw: str, region: str = "CN") -> str | None:
    """A phone number in E.164, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
