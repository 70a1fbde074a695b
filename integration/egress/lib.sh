# Shared by the egress tests (sourced after lib.sh and netlib.sh): a test CA,
# HTTP and HTTPS servers on the host loopback, and a proxy-mode policy that
# reaches them by name through resolve pins and an explicit 127.0.0.1/32 rule.
# A copy below $T: the tests bind it into sandboxes, and as root bind sources
# are opened with the sandbox's host ids (a clone under /root is out of reach).
EG="$T/eg"
cp -r "$SEALRUN_SRC/integration/egress" "$EG" && chmod -R a+rX "$EG" || { echo "Bail out! cannot copy the egress helpers"; exit 1; }
PY=/usr/bin/python3
HP=$(free_port 11)              # HTTP on 127.0.0.1 and 127.0.0.2
SP=$(free_port 12)              # HTTPS on 127.0.0.1
TP=$(free_port 13)              # a listener that never accepts (connect timeout)
export HP SP TP

eg_ca() {       # test CA and a server certificate for api.test and git.test, in $T/ca (readable inside)
        mkdir -p "$T/ca"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=sealrun-test-ca \
                -keyout "$T/ca/ca.key" -out "$T/ca/ca.pem" 2>/dev/null &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=api.test \
                -keyout "$T/ca/srv.key" -out "$T/ca/srv.csr" 2>/dev/null &&
        printf 'subjectAltName=DNS:api.test,DNS:git.test\n' > "$T/ca/ext" &&
        openssl x509 -req -in "$T/ca/srv.csr" -CA "$T/ca/ca.pem" -CAkey "$T/ca/ca.key" -CAcreateserial -days 2 \
                -extfile "$T/ca/ext" -out "$T/ca/srv.pem" 2>/dev/null || { echo "Bail out! openssl failed"; exit 1; }
        chmod -R a+rX "$T/ca"
}

eg_www() {      # the served tree: index.txt, a 2 MiB file, a bare git repository for dumb HTTP
        mkdir -p "$T/www"
        echo hello-egress > "$T/www/index.txt"
        head -c 2097152 /dev/zero > "$T/www/big"
        (cd "$T" && git init -q -b main work && cd work && echo from-git > README &&
         git -c user.email=t@t -c user.name=t add README && git -c user.email=t@t -c user.name=t commit -qm init &&
         git clone -q --bare . "$T/www/repo.git" && cd "$T/www/repo.git" && git update-server-info) >/dev/null 2>&1 ||
                { echo "Bail out! git setup failed"; exit 1; }
}

eg_servers() {
        $PY "$EG/server.py" 127.0.0.1 "$HP" "$T/www" "$T/r1" 300 2>/dev/null & bg_track $!
        $PY "$EG/server.py" 127.0.0.2 "$HP" "$T/www" "$T/r2" 300 2>/dev/null & bg_track $!
        $PY "$EG/server.py" 127.0.0.1 "$SP" "$T/www" "$T/r3" 300 "$T/ca/srv.pem" "$T/ca/srv.key" 2>/dev/null & bg_track $!
        for r in r1 r2 r3; do wait_file "$T/$r" 100 || { echo "Bail out! test server did not start"; exit 1; }; done
}

# eg_policy NAME [EXTRA-JQ] → a proxy-mode policy
eg_policy() {
        net_policy "$1" ".network = {\"mode\": \"proxy\", \"egress\": {
          \"allow\": [{\"host\": \"api.test\", \"ports\": [$HP, $SP]}, {\"host\": \"git.test\", \"ports\": [$SP]},
                    {\"host\": \"rebind.test\", \"ports\": [$HP]}, {\"host\": \"*.wild.test\", \"ports\": [$HP]},
                    {\"host\": \"slow.test\", \"ports\": [$TP]}, {\"host\": \"127.0.0.1/32\", \"ports\": [$HP, $SP, $TP]}],
          \"deny\": [{\"host\": \"blocked.wild.test\"}],
          \"resolve\": {\"api.test\": [\"127.0.0.1\"], \"git.test\": [\"127.0.0.1\"], \"rebind.test\": [\"127.0.0.2\"],
                      \"a.wild.test\": [\"127.0.0.1\"], \"blocked.wild.test\": [\"127.0.0.1\"], \"slow.test\": [\"127.0.0.1\"]},
          \"limits\": {\"connections\": 16, \"connect_timeout_ms\": 1500, \"header_timeout_ms\": 1000}}}${2:+ | $2}"
}
