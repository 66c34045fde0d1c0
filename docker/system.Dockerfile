# The system under test. One image, two roles:
#   API (default):  python -m system api --host 0.0.0.0 --port 8000
#   worker:         python -m system worker      (also runs the reconciler under a leader lock)
#
# Build with `python -m chaos.images.build` (context: docker/). It fills docker/wheelhouse/ on the
# host first, so nothing is downloaded from PyPI inside the build. The base image's Python must be
# the host's minor version (3.11) because the wheelhouse holds binary wheels built for it.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
RUN python -m venv /opt/venv
# Dependencies first: this layer stays cached while only the project's own code changes.
COPY wheelhouse/deps/ /wheels/deps/
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --disable-pip-version-check /wheels/deps/*.whl
COPY wheelhouse/project/ /wheels/project/
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --no-deps --disable-pip-version-check \
        /wheels/project/*.whl \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
# tini is PID 1: it forwards SIGTERM to Python (graceful drain on scale-down) and reaps zombies.
# The local base image bakes it in; the official slim image gets it from Debian.
RUN command -v tini >/dev/null \
 || (apt-get update && apt-get install -y --no-install-recommends tini \
     && rm -rf /var/lib/apt/lists/*)
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
# Checks the API; worker containers run with --no-healthcheck (Kubernetes uses its own probes).
HEALTHCHECK --interval=5s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "system", "api", "--host", "0.0.0.0", "--port", "8000"]
