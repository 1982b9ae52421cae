"""Jobs follow their connection: pause when it needs re-authorization, resume when back."""

from django.dispatch import receiver

from partnerapp.connections.signals import connection_needs_reauth, connection_reauthorized
from partnerapp.jobs import services


@receiver(connection_needs_reauth)
def pause_jobs(sender, connection, **kwargs) -> None:
    services.jobs_pause_for_reauth(connection=connection)


@receiver(connection_reauthorized)
def resume_jobs(sender, connection, **kwargs) -> None:
    services.jobs_resume_after_reauth(connection=connection)
