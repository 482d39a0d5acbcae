#!/usr/bin/env bash
# Compile the message catalogues (mrv/locale/*/LC_MESSAGES/django.po -> .mo; the .mo files are build
# output, not committed). Installs GNU gettext (msgfmt) from Debian's packages when it is missing.
# Used by `make run`, `make test` and `make bench` (the Dockerfile runs the same compilemessages).
set -euo pipefail
python=${1:-.venv/bin/python}
if ! command -v msgfmt >/dev/null; then
    printf '[locale] installing gettext\n'
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
fi
"$python" manage.py compilemessages --ignore=.venv --ignore=var --verbosity 0
