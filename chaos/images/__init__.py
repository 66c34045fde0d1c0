"""Container images: build the system and fixture images, and offline base images when needed.

Run ``python -m chaos.images.build``; see ``chaos/images/build.py`` for the steps.
"""

from chaos.images.tags import LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE, OFFICIAL_PYTHON_IMAGE

__all__ = ["LOCAL_POSTGRES_IMAGE", "LOCAL_REDIS_IMAGE", "OFFICIAL_PYTHON_IMAGE"]
