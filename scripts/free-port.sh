#!/bin/sh
# Prints a TCP port nothing on 127.0.0.1 listens on: a random one from
# 20000-49999, checked against /proc/net/tcp (the fixtures' daemons bind it).
while :; do
    p=$(( $(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000 ))
    grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp || { echo "$p"; exit 0; }
done
