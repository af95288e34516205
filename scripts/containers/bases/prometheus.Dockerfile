# Local stand-in for prom/prometheus: the same Prometheus release, built from the Go module
# registry (scripts/k8s/k8s-tools.ts prometheus) with every service discovery (Debian's package
# lacks Kubernetes SD, which the kind demo uses), laid out as the public image is: /bin/prometheus
# as the entrypoint, /etc/prometheus/prometheus.yml, data in /prometheus, user nobody.
ARG BASE_IMAGE=eap-local/debian:bookworm
FROM ${BASE_IMAGE}
COPY prometheus /bin/prometheus
COPY prometheus.yml /etc/prometheus/prometheus.yml
RUN mkdir -p /prometheus && chown nobody:nogroup /prometheus /etc/prometheus && /bin/prometheus --version
USER nobody
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
