# Offline stand-in for redis:7-alpine, from Debian bookworm's redis-server (7.0).
# Like the official image: no protected mode (the container network is the boundary), non-root.
ARG DEBIAN_IMAGE=image-jobs/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
