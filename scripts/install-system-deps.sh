#!/usr/bin/env bash
# Install the Debian packages caresheet needs, only those that are missing.
#   chromium                       browser tests (Playwright drives /usr/bin/chromium)
#   poppler-utils                  pdftotext/pdftoppm to check generated PDFs
#   fonts-dejavu-core, fonts-liberation   fallback fonts for pages and PDFs
#   libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0   WeasyPrint's native libraries
#   wrk                            the HTTP load generator of bench/serve.py
#   pgbouncer                      tests/store/test_pgbouncer.py (transaction pooling)
# A machine that already has them all does nothing (one dpkg query).
# Not root and something missing: print the command; fail only when CI=true.
set -euo pipefail

PACKAGES=(
    chromium
    poppler-utils
    fonts-dejavu-core
    fonts-liberation
    libpango-1.0-0
    libpangoft2-1.0-0
    libharfbuzz-subset0
    wrk
    pgbouncer
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system-deps: all present"
    exit 0
fi

echo "system-deps: missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: apt-get not found; install the packages above by hand." >&2
    [[ "${CI:-}" == "true" ]] && exit 1
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "system-deps: not root; run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        [[ "${CI:-}" == "true" ]] && exit 1
        exit 0
    fi
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "system-deps: installed ${missing[*]}"
