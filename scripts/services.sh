#!/usr/bin/env bash
# Start PostgreSQL and Redis when they are not answering; fail clearly when they cannot start.
set -u
pg_host=127.0.0.1
redis_port=6379

pg_up() { pg_isready -q -h "$pg_host" -p 5432 >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 60); do
    if $check; then return 0; fi
    sleep 0.5
  done
  echo "error: $what did not come up within 30 s" >&2
  return 1
}

status=0
if ! pg_up; then
  echo "PostgreSQL is down; starting it"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
  fi
  wait_for "PostgreSQL on $pg_host:5432" pg_up || {
    echo "error: cannot reach or start PostgreSQL; set CARPULSE_TEST_DATABASE_URL to a reachable server" >&2
    status=1
  }
fi
if ! redis_up; then
  echo "Redis is down; starting it"
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  wait_for "Redis on 127.0.0.1:$redis_port" redis_up || {
    echo "error: cannot reach or start Redis; set CARPULSE_TEST_REDIS_URL to a reachable server" >&2
    status=1
  }
fi
exit $status
