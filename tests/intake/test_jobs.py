"""Jobs asked for by name resolve to the job functions a worker runs."""

import importlib

import pytest

from intake.jobs import JOB_PATHS


@pytest.mark.parametrize("path", JOB_PATHS)
def test_each_job_path_names_a_job_function(path):
    module, name = path.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), name))
