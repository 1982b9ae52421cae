"""What happens to a connection, for the layers above it (jobs) to react to.

Jobs import connections, never the other way round; these signals let a job
pause when its connection needs re-authorization and resume when it is back.
"""

from django.dispatch import Signal

# sent with connection=..., after the status change is committed
connection_needs_reauth = Signal()
connection_reauthorized = Signal()
