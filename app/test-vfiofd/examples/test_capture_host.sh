#!/usr/bin/env bash
# Host test of examples/vfiofd-capture: replay a generated pcap through DPDK's net_pcap
# PMD as the capture port, capture it, read both files back with libpcap and match them.
# (The same round trip over a vfiofd port runs in the test bed.)
set -euo pipefail
tool=$1 capture=$2
w=$(mktemp -d /var/tmp/vfiofd-capture.XXXXXX)
trap 'rm -rf "$w"' EXIT
"$tool" gen "$w/sent.pcap" 500
"$capture" --no-huge -m 256 --no-pci --file-prefix "capture-$$" -l 0 \
	--vdev "net_pcap0,rx_pcap=$w/sent.pcap,tx_pcap=$w/tx.pcap" --log-level lib.eal:error \
	-- -w "$w/captured.pcap" --count 500 --duration 20
"$tool" compare "$w/sent.pcap" "$w/captured.pcap"
