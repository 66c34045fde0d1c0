"""Container image names shared by the docker and kind platforms, the image build and k8s/."""

# The system: API and worker share one image (`python -m system api|worker`).
SYSTEM_IMAGE = "image-jobs/system"
# The image fixture server (`python -m chaos.fixtures.server`).
FIXTURES_IMAGE = "image-jobs/fixtures"
TAG = "dev"

# Official images by default; overridable where no registry is reachable.
REDIS_IMAGE = "redis:7-alpine"
POSTGRES_IMAGE = "postgres:16-alpine"

# Ports inside containers and pods.
API_PORT = 8000
FIXTURES_PORT = 8080
REDIS_PORT = 6379
POSTGRES_PORT = 5432


def system_image(tag: str = TAG) -> str:
    return f"{SYSTEM_IMAGE}:{tag}"


def fixtures_image(tag: str = TAG) -> str:
    return f"{FIXTURES_IMAGE}:{tag}"
