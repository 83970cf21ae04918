#!/bin/sh
# The seeds' manual MTA-STS audit, step by step, pointed at the lab:
# dig the TXT and MX records, curl the policy, openssl s_client each MX.
# Usage: check-manual.sh DOMAIN DNS_PORT HTTPS_PORT SMTP_PORT CA_FILE
set -u
d=$1 dns=$2 https=$3 smtp=$4 ca=$5
q() { dig @127.0.0.1 -p "$dns" +short "$@"; }
echo "== _mta-sts";   q TXT "_mta-sts.$d"
echo "== _smtp._tls"; q TXT "_smtp._tls.$d"
host_ip=$(q A "mta-sts.$d" | head -n 1)
echo "== policy"
curl -sS --max-time 10 --cacert "$ca" --resolve "mta-sts.$d:$https:$host_ip" \
  "https://mta-sts.$d:$https/.well-known/mta-sts.txt"
for mx in $(q MX "$d" | awk '{print $2}' | sed 's/\.$//'); do
  ip=$(q A "$mx" | head -n 1)
  echo "== MX $mx ($ip)"
  echo QUIT | openssl s_client -starttls smtp -connect "$ip:$smtp" -servername "$mx" \
    -CAfile "$ca" -verify_hostname "$mx" -verify_return_error -brief 2>&1 | head -n 8
  echo | openssl s_client -starttls smtp -connect "$ip:$smtp" -servername "$mx" 2>/dev/null \
    | openssl x509 -noout -enddate
done
