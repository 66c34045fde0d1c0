# The image fixture server the workers download from: python -m chaos.fixtures.server.
# Same build as system.Dockerfile (the stages share cached layers); see there for the details.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
RUN python -m venv /opt/venv
COPY wheelhouse/deps/ /wheels/deps/
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --disable-pip-version-check /wheels/deps/*.whl
COPY wheelhouse/project/ /wheels/project/
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --no-deps --disable-pip-version-check \
        /wheels/project/*.whl \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
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
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "chaos.fixtures.server", "--host", "0.0.0.0", "--port", "8080"]
