# Base of a kind node image assembled on a machine that cannot pull kindest/node
# (scripts/containers/kind-node-image.ts; kind-node-image.ts then adds the Kubernetes, containerd
# and runc binaries and the control-plane images, and commits the result).
#
# What kind's own base image provides, from Debian packages: systemd as PID 1 (kind runs the
# kubelet and containerd as its services), the tools the kubelet, kube-proxy and kind's
# entrypoint call (iptables/nftables, mount, ip, conntrack, jq), and Debian's CNI plugins.
# kind-files/ is images/base/files of the sigs.k8s.io/kind module (copied by the script, with
# modes 0755 for scripts and 0644 for the rest): its entrypoint, the containerd and kubelet
# systemd units and kubeadm drop-ins, containerd's config, sysctls, the /kind/bin hooks.
ARG BASE_IMAGE=eap-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      systemd \
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
      libseccomp2 pigz bash ca-certificates curl jq procps \
      containernetworking-plugins \
 && rm -rf /var/lib/apt/lists/*
COPY kind-files/ /
# systemd in a container: only the units kind needs start at boot (no udev, getty, timers or
# tmpfiles clean-up of /tmp), the journal does not read the host's kernel log, and /sbin/init is
# systemd. binfmt_misc registrations would be kernel-wide, so that unit is masked.
RUN rm -f /lib/systemd/system/multi-user.target.wants/* \
          /etc/systemd/system/*.wants/* \
          /lib/systemd/system/local-fs.target.wants/* \
          /lib/systemd/system/sockets.target.wants/*udev* \
          /lib/systemd/system/sockets.target.wants/*initctl* \
          /lib/systemd/system/basic.target.wants/* \
          /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
 && printf 'ReadKMsg=no\n' >> /etc/systemd/journald.conf \
 && ln -sf /lib/systemd/systemd /sbin/init \
 && systemctl enable containerd.service kubelet.service undo-mount-hacks.service \
 && systemctl mask systemd-binfmt.service \
 && mkdir -p /etc/kubernetes/manifests /opt/cni /etc/cni/net.d \
 && ln -s /usr/lib/cni /opt/cni/bin
# containerd looks for CNI plugins in /opt/cni/bin (Debian installs them in /usr/lib/cni, linked
# above). kind's CNI, kindnetd, is an image that cannot be had here: this bridge configuration
# (host-local addresses from the pod subnet, masquerading, host ports) serves the pods of this one
# node instead, and the derived cluster config disables kind's default CNI.
COPY eap-bridge.conflist /etc/cni/net.d/10-eap-bridge.conflist
# systemd checks `container` to know it runs in one, and stops on SIGRTMIN+3.
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
