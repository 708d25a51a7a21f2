import pytest

from routing.router.evaluate import build_router_from_reference_files


@pytest.fixture(scope="session")
def router():
    """The router of the shipped reference files and calibration, built once."""
    return build_router_from_reference_files()


def sample_divisions(*aliases: str, extra: tuple = ()) -> list[dict]:
    """A province, city and county of made-up names with one township, 桥头镇, called also ``aliases``."""
    return [
        {"code": "33", "name": "浙江省", "level": "province", "parent_code": ""},
        {"code": "3399", "name": "样例市", "level": "city", "parent_code": "33"},
        {"code": "339901", "name": "样例县", "level": "county", "parent_code": "3399"},
        {"code": "339901100", "name": "桥头镇", "level": "township", "parent_code": "339901", "aliases": list(aliases)},
        *extra,
    ]
