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


SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def can_receive_sms(phone: str | None, region: str = "CN") -> bool:
    """True for a number an SMS can reach (a mobile); False for a landline or a number not understood."""
    if not phone:
        return False
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in SMS_TYPES
