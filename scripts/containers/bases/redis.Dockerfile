# Local stand-in for the public redis image: Debian's redis-server, run from /data by the redis
# user, with the public image's defaults (protected mode off, so other containers may connect;
# any `redis-server ...` command works as it does there).
ARG BASE_IMAGE=eap-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
