"""The periodic SMS job: long messages whose last parts were lost are handled with what came."""
from intake.jobcontext import in_app_context
from intake.sms import services


@in_app_context
def sweep_lost_parts(now=None) -> int:
    return services.handle_lost_parts(now)
