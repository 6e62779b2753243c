#!/bin/sh
# Starts a private sshd on 127.0.0.1 for the tests and benchmarks of remote
# workers: fresh keys in DIR, a free port, and DIR/ssh_config naming two
# hosts, h1 and h2, that are both this sshd. Prints sshd's pid.
# Usage: scripts/test-sshd.sh DIR      (stop it with: kill "$(cat DIR/sshd.pid)")
set -eu
free_port() { "$(dirname "$0")/free-port.sh"; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)  # sshd takes absolute paths only
[ -x /usr/sbin/sshd ] || { echo "test-sshd: /usr/sbin/sshd is missing (make deps installs openssh-server)" >&2; exit 1; }
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
rm -f "$dir/host_key" "$dir/host_key.pub" "$dir/id" "$dir/id.pub"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
cp "$dir/id.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
# A free port: bind to 0 and read what the kernel chose.
port=$(free_port)
cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 100
MaxStartups 100
LogLevel ERROR
CONF
cat > "$dir/ssh_config" <<CONF
Host h1 h2
    HostName 127.0.0.1
    Port $port
    User $(id -un)
    IdentityFile $dir/id
    IdentitiesOnly yes
    UserKnownHostsFile /dev/null
    StrictHostKeyChecking no
    LogLevel ERROR
CONF
/usr/sbin/sshd -f "$dir/sshd_config" -D -e </dev/null >/dev/null 2>>"$dir/sshd.log" &
echo $! > "$dir/sshd.pid"
# Ready once a login works.
tries=0
until ssh -F "$dir/ssh_config" -o BatchMode=yes h1 true 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { echo "test-sshd: sshd did not come up; its log:" >&2; cat "$dir/sshd.log" >&2; exit 1; }
    sleep 0.1
done
cat "$dir/sshd.pid"
