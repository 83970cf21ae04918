#!/bin/sh
# The seed's survey ("who uses MTA-STS?"), one domain at a time: dig the
# _mta-sts TXT record and, when it names STSv1, curl the policy. Pointed at
# the lab: its DNS server, and its policy host via --resolve and --cacert.
# Usage: loop.sh LIST DNS_PORT HTTPS_PORT CA_FILE TIMEOUT_SECONDS
set -u
list=$1 dns=$2 https=$3 ca=$4 t=$5
while read -r d; do
  txt=$(dig @127.0.0.1 -p "$dns" +short +time=1 +tries=2 TXT "_mta-sts.$d")
  case "$txt" in
    *v=STSv1*)
      policy=$(curl -sS --max-time "$t" --cacert "$ca" \
        --resolve "mta-sts.$d:$https:127.0.0.2" \
        "https://mta-sts.$d:$https/.well-known/mta-sts.txt" 2>&1)
      echo "$d $(echo "$policy" | grep -m1 '^mode:' || echo 'no policy')" ;;
    *) echo "$d none" ;;
  esac
done < "$list"
