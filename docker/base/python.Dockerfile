# Offline stand-in for python:3.11-slim, from Debian bookworm packages (python3 is 3.11 there).
# Built by `python -m chaos.images.build` only when the official image cannot be pulled.
ARG DEBIAN_IMAGE=image-jobs/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        python3 python3-venv python-is-python3 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
ENV LANG=C.UTF-8
CMD ["python"]
