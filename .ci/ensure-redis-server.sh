#!/usr/bin/env bash
# The cluster tests start a real redis-server. Install it with apt when it is missing and we are
# root; otherwise say how to get it (those tests fail with the same message).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing; installing it with apt-get (the cluster tests need it)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # The package may start a service on 6379; the tests start their own servers on free ports.
  exit 0
fi
echo "redis-server is missing: the cluster tests need it; run: sudo apt-get install redis-server" >&2
exit 0
