#!/bin/sh
# network mode "proxy" with the package and source tools agents run: pip
# downloads from a package index served over HTTP, git clones and fetches
# over smart HTTP (git http-backend), both through the proxy by name; the
# same tools are refused for a host the policy does not allow. Servers run on
# the host loopback, reached through resolve pins. Root and unprivileged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
. "$(dirname "$0")/egress/lib.sh"
if ! $PY -m pip --version >/dev/null 2>&1; then
        # a dependency `make deps` installs, not a host limit: fail, do not skip
        echo "1..1"
        echo "not ok 1 - python3-pip is not installed: run make deps"
        exit 1
fi
plan 11
GP=$(free_port 15)

# ---- a package index directory (PEP 503 simple API) with one tiny wheel ----
mkdir -p "$T/www/simple/tinypkg" "$T/www/packages"
$PY - "$T/www" <<'PYEOF' || { echo "Bail out! wheel build failed"; exit 1; }
import base64, hashlib, sys, zipfile
root = sys.argv[1]
name = "tinypkg-1.0-py3-none-any.whl"
files = {
    "tinypkg/__init__.py": "VALUE = 'from-the-index'\n",
    "tinypkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
    "tinypkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: sealrun-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for f, c in files.items():
    d = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (f, d, len(c)))
record.append("tinypkg-1.0.dist-info/RECORD,,")
files["tinypkg-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile("%s/packages/%s" % (root, name), "w") as z:
    for f, c in files.items():
        z.writestr(f, c)
h = hashlib.sha256(open("%s/packages/%s" % (root, name), "rb").read()).hexdigest()
open("%s/simple/tinypkg/index.html" % root, "w").write(
    '<!DOCTYPE html><html><body><a href="../../packages/%s#sha256=%s">%s</a></body></html>\n' % (name, h, name))
open("%s/simple/index.html" % root, "w").write('<!DOCTYPE html><html><body><a href="tinypkg/">tinypkg</a></body></html>\n')
PYEOF

# ---- a bare repository served by git http-backend (smart HTTP) -------------
mkdir -p "$T/git"
(cd "$T" && git init -q -b main src && cd src && echo smart-http > README &&
 git -c user.email=t@t -c user.name=t add README && git -c user.email=t@t -c user.name=t commit -qm one &&
 git clone -q --bare . "$T/git/repo.git") >/dev/null 2>&1 || { echo "Bail out! git setup failed"; exit 1; }
chmod -R a+rX "$T/www" "$T/git"

$PY "$EG/server.py" 127.0.0.1 "$HP" "$T/www" "$T/r1" 300 2>/dev/null & bg_track $!
$PY "$EG/git_cgi.py" 127.0.0.1 "$GP" "$T/git" "$T/r2" 300 2>/dev/null & bg_track $!
for r in r1 r2; do wait_file "$T/$r" 100 || { echo "Bail out! test server did not start"; exit 1; }; done

POL=$(net_policy tools ".network = {\"mode\": \"proxy\", \"egress\": {
  \"allow\": [{\"host\": \"pypi.test\", \"ports\": [$HP]}, {\"host\": \"git.test\", \"ports\": [$GP]},
            {\"host\": \"127.0.0.1/32\", \"ports\": [$HP, $GP]}],
  \"resolve\": {\"pypi.test\": [\"127.0.0.1\"], \"git.test\": [\"127.0.0.1\"], \"other.test\": [\"127.0.0.1\"]}}}")

# ---- pip ----------------------------------------------------------------------
PIP="$PY -m pip --disable-pip-version-check --no-cache-dir download --no-deps -d /tmp/dl --trusted-host pypi.test --trusted-host other.test"
POLICY=$POL srun --setenv HOME /tmp -- /bin/sh -c "$PIP --index-url http://pypi.test:$HP/simple/ tinypkg >/dev/null && ls /tmp/dl"
is "$OUT" "tinypkg-1.0-py3-none-any.whl" "pip download from a local index through the proxy (hash verified by pip)"
[ "$RC" -eq 0 ] || diag "$ERR"
is "$(jget "$STATUS" '.egress.denied | length')" 0 "no request was refused"
ok "$( [ "$(jget "$STATUS" '.egress.connections')" -ge 2 ]; echo $?)" "the index page and the wheel came through the proxy (2 or more connections)"
POLICY=$POL srun --setenv HOME /tmp -- /bin/sh -c "$PIP --retries 0 --timeout 5 --index-url http://other.test:$HP/simple/ tinypkg"
ok "$( [ "$RC" -ne 0 ]; echo $?)" "pip with an index the policy does not allow fails"
is "$(jget "$STATUS" '.egress.denied[0] | "\(.host) \(.reason)"')" "other.test not-allowed" "and the refusal is named"

# ---- git smart HTTP ------------------------------------------------------------
R=$(git ls-remote "http://127.0.0.1:$GP/repo.git" 2>&1 | head -n 1)
like "$R" "refs/heads/main|HEAD" "control: git ls-remote over smart HTTP works on the host"
POLICY=$POL srun -- /bin/sh -c "git clone -q http://git.test:$GP/repo.git /tmp/r && cat /tmp/r/README && git -C /tmp/r fetch -q origin && echo fetched"
is "$OUT" "smart-http
fetched" "git clone and fetch over smart HTTP (git http-backend) through the proxy"
POLICY=$POL srun -- /bin/sh -c "GIT_TRACE_CURL=1 git clone -q http://git.test:$GP/repo.git /tmp/r 2>&1 | grep -c 'git-upload-pack'"
ok "$( [ "${OUT:-0}" -ge 2 ]; echo $?)" "the clone used the smart protocol (info/refs?service=git-upload-pack, then a POST)"
ok "$( [ "$(jget "$STATUS" '.egress.connections')" -ge 2 ]; echo $?)" "status counts the connections"
POLICY=$POL srun -- /bin/sh -c "git clone -q http://other.test:$GP/repo.git /tmp/r"
ok "$( [ "$RC" -ne 0 ]; echo $?)" "git clone from a host the policy does not allow fails"
is "$(jget "$STATUS" '.egress.denied[0].reason')" not-allowed "reason not-allowed"
