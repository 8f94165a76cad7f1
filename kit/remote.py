"""Makes kit.errors cross nameko RPC as themselves, not as RemoteError."""
from nameko.exceptions import deserialize_to_instance

from kit.errors import REMOTE_ERRORS

for _cls in REMOTE_ERRORS:
    deserialize_to_instance(_cls)
