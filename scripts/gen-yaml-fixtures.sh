#!/usr/bin/env bash
# Regenerates test/conformance/yaml/go-yaml.json: go-yaml v3's verdict on every case of the YAML
# test suite (../shared/conformance/yaml-test-suite) and on our own cases
# (test/conformance/yaml/cases/*.yaml), as Butane's YAML library reads them.
# Needs Debian's golang-go and golang-gopkg-yaml.v3-dev; builds offline from /usr/share/gocode.
# `make test` does not need Go: it reads the committed fixtures.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${NEXUS_YAML_SUITE_DIR:-$repo/../shared/conformance/yaml-test-suite}
own=$repo/test/conformance/yaml/cases
out=$repo/test/conformance/yaml/go-yaml.json

for pkg in golang-go golang-gopkg-yaml.v3-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || {
    echo "gen-yaml-fixtures: $pkg is not installed (apt-get install golang-go golang-gopkg-yaml.v3-dev)" >&2
    exit 1
  }
done
[ -d "$suite" ] || { echo "gen-yaml-fixtures: no YAML test suite at $suite" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# GOPATH mode finds gopkg.in/yaml.v3 where Debian installs it; no network, no go.mod.
GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$work/cache GOFLAGS= \
  go build -o "$work/yaml-reference" "$repo/scripts/yaml-reference/main.go"

{
  (cd "$suite" && find . -name in.yaml | sed 's|^\./||' | sort) | while read -r f; do
    printf 'suite:%s\t%s\n' "${f%/in.yaml}" "$suite/$f"
  done
  for f in "$own"/*.yaml; do
    name=$(basename "$f" .yaml)
    printf 'own:%s\t%s\n' "$name" "$f"
  done
} >"$work/list"

"$work/yaml-reference" <"$work/list" >"$work/out.json"
mv "$work/out.json" "$out"
echo "gen-yaml-fixtures: $(grep -c '^"' "$out") verdicts from go-yaml $(dpkg-query -W -f='${Version}' golang-gopkg-yaml.v3-dev) in ${out#"$repo"/}"
