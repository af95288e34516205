#!/bin/sh
# kube-proxy image (scripts/containers/kind-images.ts): installed as iptables, iptables-save,
# iptables-restore and their ip6tables twins in /usr/local/sbin, ahead of Debian's in PATH.
#
# kube-proxy runs in the node's network namespace, where the node (kind's entrypoint, the kubelet)
# already wrote rules with one of the two iptables backends, legacy or nf_tables. Rules written with
# the other backend would live in separate tables that the node's tools do not show, so on its
# first call this picks the backend that holds more rules, points all six names at that backend's
# multi-call binary (which acts by the name it is called with), and runs the requested command.
set -eu
name=$(basename "$0")
count() { ("$1-save" || true; "$2-save" || true) 2>/dev/null | grep -c '^-' || true; }
legacy=$(count iptables-legacy ip6tables-legacy)
nft=$(count iptables-nft ip6tables-nft)
backend=nft
if [ "$legacy" -gt "$nft" ]; then backend=legacy; fi
for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  # A new link renamed over the old one: concurrent callers always find a working command.
  ln -sf "/usr/sbin/xtables-$backend-multi" "/usr/local/sbin/.$tool.$$"
  mv -f "/usr/local/sbin/.$tool.$$" "/usr/local/sbin/$tool"
done
exec "/usr/local/sbin/$name" "$@"
