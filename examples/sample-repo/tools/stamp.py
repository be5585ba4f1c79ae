from datetime import datetime


def stamp():
    """The current time, for log lines."""
    return datetime.utcnow().isoformat()
