"""image-jobs: an image-processing job service that completes every accepted job exactly once."""

from system.settings import MUTATIONS, Settings

__all__ = ["MUTATIONS", "Settings"]
