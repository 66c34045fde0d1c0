# Offline stand-in for postgres:16-alpine, from Debian bookworm's PostgreSQL (15).
# Behaves like the official image where the harness relies on it: POSTGRES_PASSWORD and
# POSTGRES_DB initialise the cluster on first start, data lives in the PGDATA volume, the server
# runs as the postgres user as PID 1, and SIGINT (fast shutdown) is the stop signal.
ARG DEBIAN_IMAGE=image-jobs/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/* \
 # JIT compilation is optional and unused here: dropping LLVM saves ~130 MB. Without llvmjit.so
 # PostgreSQL simply runs without JIT.
 && rm -rf /usr/lib/postgresql/*/lib/llvmjit* /usr/lib/postgresql/*/lib/bitcode \
           /usr/lib/*-linux-gnu/libLLVM-*.so* /usr/lib/*-linux-gnu/libz3.so* \
 && ln -s "$(ls -d /usr/lib/postgresql/*/bin | head -n 1)" /usr/lib/postgresql/bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
