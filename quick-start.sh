#!/usr/bin/env bash
# Sluice quick start. On a fresh clone:
#   ./quick-start.sh          build, migrate, create the first admin, start in the background
#   ./quick-start.sh demo     the same, running `sluice demo`: fake upstreams, demo data, live demo traffic
#   ./quick-start.sh status   is it running, is it ready
#   ./quick-start.sh logs     the server log (logs -f to follow)
#   ./quick-start.sh stop     stop it (in-flight requests finish first)
# Re-running it upgrades in place: it rebuilds, restarts when the binary
# changed (or when switching between serve and demo), and keeps ./data.
# restart keeps the mode it ran in. Settings come from SLUICE_* variables (README).
set -euo pipefail
cd "$(dirname "$0")"

DATA_DIR=${SLUICE_DATA_DIR:-./data}
PID_FILE=$DATA_DIR/sluice.pid
MODE_FILE=$DATA_DIR/sluice.mode
LOG_FILE=$DATA_DIR/sluice.log
BIN=./bin/sluice
ADDR=${SLUICE_ADDR:-:8080}
PORT=${ADDR##*:}
HOST=${ADDR%:*}
case "$HOST" in ""|0.0.0.0|"[::]") HOST=localhost ;; esac
URL="http://$HOST:$PORT"
ADMIN_EMAIL=${SLUICE_ADMIN_EMAIL:-admin@localhost}
export SLUICE_DATA_DIR=$DATA_DIR

say() { printf '%s\n' "$*"; }
die() { printf 'quick-start: %s\n' "$*" >&2; exit 1; }

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid that is not ours.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "sluice" || return 1
  echo "$pid"
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

http_status() { # http_status PATH → status code, or 000
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$URL$1" 2>/dev/null || echo 000
  else
    # Plain bash fallback: one HTTP/1.0 request over /dev/tcp.
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3 &&
      head -1 <&3 | awk '{print $2}'; } 2>/dev/null || echo 000
  fi
}

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Install Go 1.26 or newer (https://go.dev/dl/), then run ./quick-start.sh again."
  local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  if [ "${major:-0}" -lt 1 ] || { [ "$major" -eq 1 ] && [ "${minor:-0}" -lt 26 ]; }; then
    die "Go $v is too old: Sluice needs Go 1.26 or newer."
  fi
}

build() {
  need_go
  if [ -f web/package.json ] && command -v npm >/dev/null 2>&1; then
    say "Building the admin console (web/)…"
    if ! (cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build --silent) >"$DATA_DIR/web-build.log" 2>&1; then
      say "  console build failed (see $DATA_DIR/web-build.log); using the console assets committed in web/dist"
      git checkout -- web/dist 2>/dev/null || true
    fi
  elif [ -f web/package.json ]; then
    say "Node.js not found: using the console assets committed in web/dist."
  else
    say "Using the console assets committed in web/dist."
  fi
  say "Building sluice…"
  local version commit date
  version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  # The commit's date, not the clock's: the same source builds the same
  # binary, so a re-run with nothing new does not restart the server.
  date=$(git log -1 --format=%cI 2>/dev/null || echo unknown)
  local pkg=github.com/sluicehq/sluice/internal/version
  GOTOOLCHAIN=local CGO_ENABLED=0 go build \
    -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.Date=$date" \
    -o "$BIN.new" ./cmd/sluice || die "go build failed"
}

wait_ready() { # wait_ready PID
  for _ in $(seq 1 120); do
    kill -0 "$1" 2>/dev/null || { say "sluice exited during start-up; last log lines:"; tail -n 20 "$LOG_FILE" >&2; exit 1; }
    [ "$(http_status /readyz)" = 200 ] && return 0
    sleep 0.5
  done
  die "sluice did not become ready within 60 s; see $LOG_FILE"
}

stop() {
  local pid
  if ! pid=$(running_pid); then say "Sluice is not running."; rm -f "$PID_FILE"; return 0; fi
  say "Stopping sluice (pid $pid); in-flight requests may finish first…"
  kill -TERM "$pid"
  for _ in $(seq 1 140); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; say "Stopped."; return 0; }
    sleep 0.25
  done
  say "Still running after 35 s; sending SIGKILL."
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

last_mode() { # the command the server last ran: serve or demo
  local m; m=$(cat "$MODE_FILE" 2>/dev/null || true)
  [ "$m" = demo ] && echo demo || echo serve
}

start() { # start [serve|demo]
  local mode=${1:-serve}
  mkdir -p "$DATA_DIR"
  chmod 700 "$DATA_DIR" 2>/dev/null || true
  if ! running_pid >/dev/null && port_taken; then
    die "port $PORT is already taken by another program. Stop it, or choose another port: SLUICE_ADDR=:8090 ./quick-start.sh"
  fi
  build
  local pid=""
  if pid=$(running_pid); then
    if cmp -s "$BIN.new" "$BIN" && [ "$(last_mode)" = "$mode" ]; then
      rm -f "$BIN.new"
      say ""
      say "Sluice is already running (pid $pid, $mode) at $URL — nothing to upgrade."
      say "  ./quick-start.sh status | logs | stop"
      return 0
    fi
    if cmp -s "$BIN.new" "$BIN"; then
      say "Sluice runs as '$(last_mode)': restarting it as '$mode' (data in $DATA_DIR is kept)."
    else
      say "A new build differs from the running one: upgrading in place (data in $DATA_DIR is kept)."
    fi
    stop
  fi
  mv -f "$BIN.new" "$BIN"

  say "Migrating the database…"
  "$BIN" migrate up | sed 's/^/  /'

  local out password=""
  if [ -n "${SLUICE_ADMIN_PASSWORD:-}" ]; then
    out=$("$BIN" admin create --if-no-admin --email "$ADMIN_EMAIL" --password "$SLUICE_ADMIN_PASSWORD")
    password=$SLUICE_ADMIN_PASSWORD
  else
    out=$("$BIN" admin create --if-no-admin --email "$ADMIN_EMAIL")
    password=$(printf '%s\n' "$out" | sed -n 's/.* with password \([^ ]*\) .*/\1/p')
  fi

  local from=0
  [ -f "$LOG_FILE" ] && from=$(wc -c <"$LOG_FILE")
  if [ "$mode" = demo ]; then
    say "Starting sluice demo on $ADDR (fake upstreams, demo data, live demo traffic)…"
    say "  (the first demo start writes a day of call history: a few seconds)"
  else
    say "Starting sluice on $ADDR…"
  fi
  nohup "$BIN" "$mode" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$mode" >"$MODE_FILE"
  wait_ready "$pid"

  say ""
  if [ "$mode" = demo ]; then
    say "Sluice demo is running (pid $pid): sign in to the console to see the dashboard."
  else
    say "Sluice is running (pid $pid)."
  fi
  say "  Console:   $URL/"
  say "  API:       $URL/v1  (OpenAI-compatible)"
  say "  Admin API: $URL/admin/api/v1"
  if [ -n "$password" ]; then
    say "  Admin:     $ADMIN_EMAIL"
    say "  Password:  $password"
    [ -z "${SLUICE_ADMIN_PASSWORD:-}" ] && say "             (generated now and shown only once; keep it)"
  else
    say "  Admin:     an admin already exists ($out)."
    say "             Forgot the password? $BIN admin passwd --email $ADMIN_EMAIL"
  fi
  if [ "$mode" = demo ]; then
    local key
    key=$(tail -c +"$((from + 1))" "$LOG_FILE" | sed -n 's/^  Demo key:  *\([^ ]*\).*/\1/p' | tail -n 1)
    if [ -n "$key" ]; then say "  Demo key:  $key"; fi
    say "             (models demo-gpt, demo-claude, demo-gemini, demo-embed; prompt summarize)"
  fi
  say "  Logs:      ./quick-start.sh logs    Stop: ./quick-start.sh stop"
}

status() {
  local pid
  if pid=$(running_pid); then
    local ready; ready=$(http_status /readyz)
    say "Sluice is running (pid $pid) at $URL; /readyz answers $ready."
    [ "$ready" = 200 ] || exit 1
  else
    say "Sluice is not running."
    exit 3
  fi
}

case "${1:-start}" in
  start|up) start serve ;;
  demo) start demo ;;
  stop) stop ;;
  restart) mode=$(last_mode); stop; start "$mode" ;;
  status) status ;;
  logs) if [ "${2:-}" = "-f" ]; then tail -n 100 -f "$LOG_FILE"; else tail -n 200 "$LOG_FILE"; fi ;;
  -h|--help|help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start, demo, stop, restart, status, logs)" ;;
esac
