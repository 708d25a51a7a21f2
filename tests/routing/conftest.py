import pytest

from routing.router.evaluate import build_router_from_reference_files


@pytest.fixture(scope="session")
def router():
    """The router of the shipped reference files and calibration, built once."""
    return build_router_from_reference_files()
