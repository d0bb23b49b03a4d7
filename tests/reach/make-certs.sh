#!/bin/sh
# Makes the certificates of the TLS tests, all with P-256 keys:
#
#   ca.crt            the test CA (the tests' trust anchor)
#   server.crt        localhost and 127.0.0.1, signed by the CA
#   expired.crt       the same names, valid only in January 2020
#   wronghost.crt     wrong.example only
#   client.crt        a client certificate (clientAuth) signed by the CA
#   rogue-ca.crt      a second CA that nobody trusts
#   rogue-client.crt  a client certificate signed by the rogue CA
#
# each with its key as <name>.key. The output directory is made afresh.
#
# Usage: make-certs.sh <openssl> <output directory>
set -eu

openssl=$1
out=$2

rm -rf "$out"
mkdir -p "$out/db"
cd "$out"

new_key() {
    "$openssl" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
}

new_ca() {
    new_key "$1"
    "$openssl" req -x509 -new -key "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# sign <name> <ca> <subject CN> <extensions> [openssl ca date options]
sign() {
    name=$1 ca=$2 cn=$3 extensions=$4
    shift 4
    new_key "$name"
    "$openssl" req -new -key "$name.key" -out "db/$name.csr" -subj "/CN=$cn"
    printf '%s\n' "basicConstraints=CA:FALSE" "$extensions" > "db/$name.ext"
    : > "db/$ca.index"
    [ -f "db/$ca.serial" ] || echo 1000 > "db/$ca.serial"
    cat > "db/$ca.cnf" <<EOF
[ ca ]
default_ca = signer
[ signer ]
database = db/$ca.index
serial = db/$ca.serial
new_certs_dir = db
certificate = $ca.crt
private_key = $ca.key
default_md = sha256
default_days = 825
unique_subject = no
policy = anything
[ anything ]
commonName = supplied
EOF
    "$openssl" ca -batch -notext -config "db/$ca.cnf" -extfile "db/$name.ext" \
        -in "db/$name.csr" -out "$name.crt" "$@" 2>/dev/null
}

server_names="subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"

new_ca ca "wsqt test CA"
new_ca rogue-ca "wsqt rogue CA"
sign server ca localhost "$server_names"
sign expired ca localhost "$server_names" -startdate 20200101000000Z -enddate 20200201000000Z
sign wronghost ca wrong.example "subjectAltName=DNS:wrong.example
extendedKeyUsage=serverAuth"
sign client ca "wsqt client" "extendedKeyUsage=clientAuth"
sign rogue-client rogue-ca "wsqt rogue client" "extendedKeyUsage=clientAuth"

rm -rf db
