#!/bin/sh
# Regenerates openssl-ecb.txt: Camellia-ECB vectors from OpenSSL's
# implementation, an independent check of this package beyond RFC 3713's
# three examples. Keys and plaintexts are SHA-256/512 digests of labels, so
# the file is reproducible. Run from this directory: sh openssl-ecb.sh > openssl-ecb.txt
set -eu
hexof() { printf '%s' "$1" | openssl dgst -"$2" -r | cut -d' ' -f1; }
echo "# keybits key plaintext ciphertext (hex); made by openssl-ecb.sh with $(openssl version | cut -d' ' -f1-2)"
for bits in 128 192 256; do
	for i in 0 1 2 3 4 5 6 7; do
		key=$(hexof "camellia key $bits $i" sha256 | cut -c1-$((bits / 4)))
		pt=$(hexof "camellia plaintext $bits $i" sha512)
		ct=$(printf '%s' "$pt" | xxd -r -p | openssl enc -e -camellia-$bits-ecb -nopad -K "$key" | xxd -p | tr -d '\n')
		echo "$bits $key $pt $ct"
	done
done
