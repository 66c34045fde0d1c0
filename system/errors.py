"""Errors of the image-job system. Every one derives from ``JobSystemError``."""


class JobSystemError(Exception):
    """Base class of every error the system raises on purpose."""


class ConfigError(JobSystemError):
    """Raised when a setting from the environment is missing or malformed."""


class JobError(JobSystemError):
    """Raised when one job cannot be processed; ``permanent`` says whether a retry could help."""

    permanent = False


class TransientJobError(JobError):
    """Raised when a job failed for a reason that may pass (timeout, 5xx, connection reset)."""


class PermanentJobError(JobError):
    """Raised when a job can never succeed (404, not an image, too big, refused URL)."""

    permanent = True
