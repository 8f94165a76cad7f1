#!/usr/bin/env bash
# What the test suite needs besides Python packages: RabbitMQ and PostgreSQL answering on
# 127.0.0.1 (started by the machine, not by us), rabbitmqctl to make a throw-away vhost,
# Debian's chromium and a Chinese font for the browser tests (the font is the PDFs' too),
# poppler-utils to read the PDFs back, zbar-tools to decode their QR codes, wrk for the
# benchmarks under bench/ (load from outside Python, issue 12). Installs what
# it can (as root, from Debian), and says clearly what is missing.
set -u
missing=0

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672; then
  echo "RabbitMQ is not answering on 127.0.0.1:5672. Start it: rabbitmq-server -detached" >&2
  missing=1
fi
if ! port_open 5432; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it:" \
       "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  missing=1
fi
if ! command -v rabbitmqctl >/dev/null; then
  echo "rabbitmqctl is not on PATH (the tests create and delete their own vhost with it)" >&2
  missing=1
fi

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || need_apt+=(fonts-wqy-zenhei)
command -v pdftotext >/dev/null && command -v pdffonts >/dev/null || need_apt+=(poppler-utils)   # the tests read the PDFs
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)          # and decode the certificates' QR codes
command -v wrk >/dev/null || need_apt+=(wrk)                      # bench/: the load generator
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing from Debian: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
      || { echo "apt-get install ${need_apt[*]} failed" >&2; missing=1; }
  else
    echo "Missing: ${need_apt[*]} (install with: apt-get install ${need_apt[*]})" >&2
    missing=1
  fi
fi
exit $missing
