#!/usr/bin/env bash
# §5.1 SQL injection, second opinion: sqlmap (Debian package) against the live server on loopback.
# Starts `darezone serve` on a temporary DATA_DIR (rate limiting off so the scanner is not throttled),
# signs up two users and seeds a private challenge with a check-in through the API, then runs sqlmap,
# authenticated, over the login body, user search `q`, a challenge by id (path), the check-in lists
# with their filters, join-by-code, the sign-up body and the profile update. Fails if sqlmap calls any parameter injectable, if a target
# could not be tested at all, or if the server answered any request with a 5xx.
#   scripts/sqlmap-scan.sh                         # a few minutes on 2 cores
#   SQLMAP_SCAN_LOGS=/tmp/sqlmap scripts/sqlmap-scan.sh   # keep sqlmap's output per target
# Options are bounded on purpose: --level=2 --risk=1 (no OR-based or heavy payloads that change data),
# time-based probes at --time-sec=2, request timeouts, 4 threads per target.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v sqlmap >/dev/null || { echo "sqlmap-scan: sqlmap is not installed (apt-get install -y sqlmap)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base="http://127.0.0.1:$port"

APP_ENV=development DATA_DIR="$work/data" PORT=$port HOST=127.0.0.1 LOG_LEVEL=info \
  RATE_LIMIT_ENABLED=false JOBS_ENABLED=false ALERTS_ENABLED=false ACCESS_TOKEN_TTL_SECONDS=3600 \
  node bin/darezone.js serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "$base/health/live" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "sqlmap-scan: the server did not start:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$base/health/live" >/dev/null || { echo "sqlmap-scan: the server is not answering" >&2; exit 1; }

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=process.argv[1].split(".").reduce((o,k)=>o?.[k],JSON.parse(s));if(v===undefined)process.exit(1);console.log(v)})' "$1"; }
post() { curl -fsS -X POST "$base$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} --data "$2"; }

password='Sqlmap-Scan-Passphrase-77'
alice=$(post /api/v1/auth/signup "{\"email\":\"alice.scan@example.test\",\"password\":\"$password\",\"display_name\":\"Alice Scan\"}")
token=$(printf '%s' "$alice" | json access_token)
alice_id=$(printf '%s' "$alice" | json user.id)
bob=$(post /api/v1/auth/signup "{\"email\":\"bob.scan@example.test\",\"password\":\"$password\",\"display_name\":\"Bob Scan\"}")
bob_token=$(printf '%s' "$bob" | json access_token)
today=$(date -u +%F)
until=$(date -u -d '+20 days' +%F)
habit=00000000-0000-4000-8000-000000000001
challenge=$(post /api/v1/challenges "{\"name\":\"Scan target\",\"type\":\"group\",\"start_date\":\"$today\",\"end_date\":\"$until\",\"habit_ids\":[\"$habit\"],\"checkin_type\":\"any\"}" "$token")
challenge_id=$(printf '%s' "$challenge" | json id)
code=$(printf '%s' "$challenge" | json invite_code)
post /api/v1/checkins "{\"challenge_id\":\"$challenge_id\",\"habit_id\":\"$habit\",\"caption\":\"day one\"}" "$token" >/dev/null
# A second challenge of Bob's whose code the scan uses to join (so join answers 200, not 409).
bob_code=$(post /api/v1/challenges "{\"name\":\"Bob target\",\"type\":\"group\",\"start_date\":\"$today\",\"end_date\":\"$until\",\"habit_ids\":[\"$habit\"],\"checkin_type\":\"any\"}" "$bob_token" | json invite_code)
echo "sqlmap-scan: server on $base seeded (challenge $challenge_id, code $code) in $((SECONDS - started))s"

common=(--batch --skip-waf --level=2 --risk=1 --time-sec=2 --timeout=10 --retries=1 --threads=4 --technique=BEUST
  --dbms=PostgreSQL --flush-session --disable-coloring --output-dir="$work/sqlmap" --answers="follow=N")
auth=(--headers="Authorization: Bearer $token")
failed=0
run() {
  local name=$1; shift
  local log="$work/$name.log"
  local t0=$SECONDS
  local before; before=$(grep -c '"msg":"request completed"' "$work/server.log" || true)
  sqlmap "${common[@]}" "$@" >"$log" 2>&1 || true
  [ -n "${SQLMAP_SCAN_LOGS:-}" ] && mkdir -p "$SQLMAP_SCAN_LOGS" && cp "$log" "$SQLMAP_SCAN_LOGS/"
  local after; after=$(grep -c '"msg":"request completed"' "$work/server.log" || true)
  local tests; tests=$(grep -c "\[INFO\] testing '" "$log" || true)
  local verdict
  if grep -Eqi "identified the following injection point|parameter '.*' is vulnerable|appears to be '.*' injectable" "$log"; then
    verdict="INJECTABLE"; failed=1
    grep -Ei "injection point|is vulnerable|injectable" "$log" | grep -vi "not injectable\|do not appear" | head -20 >&2
  elif grep -Eqi "all tested parameters do not appear to be injectable|do not appear to be injectable" "$log"; then
    verdict="not injectable"
  else
    verdict="NOT TESTED"; failed=1
    tail -15 "$log" >&2
  fi
  printf 'sqlmap-scan: %-20s %-15s %4ss %6s requests %4s tests\n' "$name" "$verdict" "$((SECONDS - t0))" "$((after - before))" "$tests"
}

# 401 (wrong password) and 429 (the per-email lockout after 5 failures) are the login's normal answers.
run login-body --ignore-code=401,429 -u "$base/api/v1/auth/login" --method=POST -H 'Content-Type: application/json' \
  --data="{\"email\":\"alice.scan@example.test\",\"password\":\"not-the-password\"}"
run user-search "${auth[@]}" -u "$base/api/v1/users/search?q=Ali&limit=5" -p q
run challenge-by-id "${auth[@]}" -u "$base/api/v1/challenges/${challenge_id}*"
run challenge-checkins "${auth[@]}" -u "$base/api/v1/challenges/$challenge_id/checkins?user_id=$alice_id&habit_id=$habit&from=$today&to=$until&limit=10" \
  -p "user_id,habit_id,from,to"
run my-checkins "${auth[@]}" -u "$base/api/v1/checkins?challenge_id=$challenge_id&from=$today&to=$until&limit=10" -p "challenge_id,from,to"
run join-by-code "${auth[@]}" -u "$base/api/v1/challenges/join" --method=POST -H 'Content-Type: application/json' \
  --data="{\"invite_code\":\"$bob_code\"}"
# Stored text: sign-up (409 once the email exists) and the profile (what other users later read).
run signup-body --ignore-code=409,422 -u "$base/api/v1/auth/signup" --method=POST -H 'Content-Type: application/json' \
  --data="{\"email\":\"carol.scan@example.test\",\"password\":\"$password\",\"display_name\":\"Carol Scan\"}"
run profile-patch "${auth[@]}" --ignore-code=422 -u "$base/api/v1/users/me" --method=PATCH -H 'Content-Type: application/json' \
  --data='{"display_name":"Alice Scan","bio":"hello","full_name":"Alice"}'

server_errors=$(grep -c '"status":5[0-9][0-9]' "$work/server.log" || true)
requests=$(grep -c '"msg":"request completed"' "$work/server.log" || true)
echo "sqlmap-scan: the server answered $requests requests, $server_errors with a 5xx; total $((SECONDS - started))s"
if [ "$server_errors" != "0" ]; then
  echo "sqlmap-scan: 5xx answers during the scan:" >&2
  grep '"status":5[0-9][0-9]' "$work/server.log" | head -5 >&2
  failed=1
fi
if [ "$failed" != "0" ]; then echo "sqlmap-scan: FAILED" >&2; exit 1; fi
echo "sqlmap-scan: no injectable parameter"
