"""The periodic SMS job: long messages whose last parts were lost are handled with what came."""

from intake.jobcontext import in_app_context
from intake.sms import services
from intake.sweeplog import records_run
from intake.transaction import transactional


@in_app_context
@records_run
def sweep_lost_parts(now=None) -> int:
    # One transaction per message, so one that fails leaves those handled before it stored.
    return sum(transactional(services.handle_lost_group)(*group) for group in services.lost_part_groups(now))
