#!/usr/bin/env bash
# Lighthouse over six console pages of a seeded `trail serve`: sign-in, the
# audit log (50 rows), an event, settings/streams, settings/alerts and
# users. It prints a Markdown table of the accessibility, best practices
# and performance scores, the requests and bytes of each page and its
# first byte, then every audit that did not pass, for docs/console.md.
#
#   scripts/lighthouse.sh [OUTPUT_DIR]
#
# LH_PRESET=desktop runs Lighthouse's desktop preset (no CPU slowdown, a
# desktop screen) instead of its default, a phone on a slow network with
# the CPU slowed down four times: on a busy machine that default measures
# the machine more than the page. It needs Go, Node and npm (Lighthouse is installed from npm into the
# user's cache folder on first use) and Chromium (CHROMIUM, default
# /usr/bin/chromium). The JSON reports stay in OUTPUT_DIR (default: a
# temporary folder, named at the end). Too heavy for .ci/run: about a
# minute a page on a busy machine.
set -euo pipefail
cd "$(dirname "$0")/.."

LH_VERSION=12.8.2
PRESET=${LH_PRESET:-}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/trail-test/lighthouse-$LH_VERSION"
lighthouse="$cache/node_modules/.bin/lighthouse"
if [ ! -x "$lighthouse" ]; then
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "lighthouse@$LH_VERSION" >&2
fi

work=$(mktemp -d)
out=${1:-$work/reports}
mkdir -p "$out"
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work/data" "$work/trail"
}
trap cleanup EXIT

go build -o "$work/trail" ./cmd/trail
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$work/trail" serve --data "$work/data" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -fs "$base/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "$base/readyz" >/dev/null

password="lighthouse-password-$$"
echo "$password" | "$work/trail" users create --data "$work/data" --tenant acme \
	--email owner@acme.example --role owner --password-stdin >/dev/null
key=$("$work/trail" keys create --data "$work/data" --tenant acme --scopes events:write,events:read \
	--output json | jq -r .secret)

# 60 events of four actors, as a real log reads: the audit log shows 50.
python3 - "$base" "$key" <<'EOF'
import json, sys, urllib.request, datetime
base, key = sys.argv[1], sys.argv[2]
actors = [("u_alice", "alice@acme.example"), ("u_bob", "bob@acme.example"),
          ("u_carol", "carol@acme.example"), ("k_ci", "CI deploy key")]
actions = ["document.shared", "document.viewed", "document.deleted", "user.invited",
           "user.role_changed", "project.created", "billing.plan_changed"]
now = datetime.datetime.now(datetime.timezone.utc)
events = []
for i in range(60):
    aid, name = actors[i % 4]
    events.append({
        "action": actions[i % 7],
        "occurred_at": (now - datetime.timedelta(minutes=60 - i)).isoformat(),
        "actor": {"type": "api_key" if aid.startswith("k_") else "user", "id": aid, "name": name},
        "targets": [{"type": "document", "id": "d_%d" % (1000 + i % 40), "name": "Plan %d" % (i % 40)},
                    {"type": "project", "id": "p_%d" % (i % 3)}],
        "context": {"ip": "203.0.113.%d" % (i % 250), "user_agent": "Mozilla/5.0 (Macintosh) Firefox/140.0",
                    "location": "Berlin, DE"},
        "metadata": {"permission": "edit", "request": i},
    })
req = urllib.request.Request(base + "/v1/events", data=json.dumps({"events": events}).encode(),
                             headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
urllib.request.urlopen(req).read()
EOF
event=$(curl -fs -H "Authorization: Bearer $key" "$base/v1/events?limit=1" | jq -r '.events[0].id')

# Sign in as a browser does, and hand Lighthouse the session cookie.
jar="$work/cookies"
csrf=$(curl -fs -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "next=/events" \
	--data-urlencode "tenant=acme" --data-urlencode "email=owner@acme.example" \
	--data-urlencode "password=$password" "$base/login"
session=$(awk '$6 ~ /trail_session$/ {print $6 "=" $7}' "$jar")
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }
jq -n --arg c "$session" '{Cookie: $c}' >"$work/headers.json"

pages=("sign-in /login" "events /events" "event /events/$event" "streams /settings/streams"
	"alerts /settings/alerts" "users /users")
for p in "${pages[@]}"; do
	name=${p%% *} path=${p#* }
	extra=()
	[ "$name" = sign-in ] || extra=(--extra-headers="$work/headers.json")
	[ -z "$PRESET" ] || extra+=(--preset="$PRESET")
	"$lighthouse" "$base$path" "${extra[@]}" --chrome-path="$CHROMIUM" \
		--chrome-flags="--headless=new --no-sandbox --disable-gpu" --quiet \
		--only-categories=accessibility,best-practices,performance \
		--output=json --output-path="$out/$name.json"
done

echo "| page | accessibility | best practices | performance | requests | KB | first byte |"
echo "|---|---|---|---|---|---|---|"
for p in "${pages[@]}"; do
	name=${p%% *}
	jq -r --arg n "$name" '[$n,
		(.categories.accessibility.score * 100 | round),
		(.categories["best-practices"].score * 100 | round),
		(.categories.performance.score * 100 | round),
		(.audits["network-requests"].details.items | length),
		(.audits["total-byte-weight"].numericValue / 1024 | round),
		((.audits["server-response-time"].numericValue | round | tostring) + " ms")]
		| "| " + join(" | ") + " |"' "$out/$name.json"
done
echo
echo "Audits that did not pass:"
for p in "${pages[@]}"; do
	name=${p%% *}
	jq -r --arg n "$name" '. as $r | [.categories[] | .auditRefs[] | select(.weight > 0) | .id] | unique | .[]
		| $r.audits[.] | select(.score != null and .score < 1)
		| "- \($n): \(.id) (\(.score)): \(.title)"' "$out/$name.json"
done
echo
echo "Reports: $out" >&2
