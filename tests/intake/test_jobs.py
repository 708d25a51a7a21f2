"""Jobs asked for by name resolve to the job functions a worker runs."""

import importlib

import pytest

from intake.jobs import JOB_PATHS, JOB_QUEUES, queue_for


@pytest.mark.parametrize("path", sorted(set(JOB_PATHS) | set(JOB_QUEUES)))
def test_each_job_path_names_a_job_function(path):
    module, name = path.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), name))


def test_every_job_asked_for_by_name_has_a_queue():
    assert all(queue_for(path) for path in JOB_PATHS)
    with pytest.raises(ValueError, match="JOB_QUEUES"):
        queue_for("routing.tasks.no_such_job")
