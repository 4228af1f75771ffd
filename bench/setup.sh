#!/usr/bin/env bash
# What `make bench` needs besides Python packages, from Debian's packages when missing:
#   wrk          the HTTP load generator (without it, the harness loads with KVClient and says so)
#   etcd-server  the production reference for failover and the replicated log (without it,
#                those comparisons are skipped, with the reason on the page)
# Neither is fatal: the page says what it could not measure, and why.
set -uo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
[ ${#missing[@]} -eq 0 ] && exit 0
apt_get=(apt-get)
[ "$(id -u)" -eq 0 ] || apt_get=(sudo -n apt-get)
echo "bench: installing ${missing[*]} with apt-get"
"${apt_get[@]}" update -qq >/dev/null 2>&1
for package in "${missing[@]}"; do
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "$package" >/dev/null 2>&1 \
        || echo "bench: could not install $package; the page will say what that leaves out"
done
exit 0
