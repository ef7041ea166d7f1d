#!/usr/bin/env bash
# In the test bed, the data-path examples over vfiofd ports (net_vfiofd_virtio):
#   test_examples_vm.sh BUILD capture   pcap round trip: pcap_tool sends generated frames
#                                       out of the first virtio NIC while vfiofd-capture
#                                       writes what the second receives; both files are
#                                       read back with libpcap and must match
#   test_examples_vm.sh BUILD l2fwd     vfiofd-l2fwd forwards between the two NICs
set -uo pipefail
B=$1 what=$2
read -r bdf0 bdf1 _ <<< "$VFIOFD_VIRTIO_BDFS"
plugins=(--no-pci -d "$B/drivers/bus/vfiofd/librte_bus_vfiofd.so"
	-d "$B/drivers/net/vfiofd_virtio/librte_net_vfiofd_virtio.so" --log-level lib.eal:error)
tool=$B/app/test-vfiofd/examples/pcap_tool
w=$(mktemp -d)
n=0 failed=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

case "$what" in
capture)
	frames=1000
	"$tool" gen "$w/sent.pcap" $frames > /dev/null
	"$B/examples/vfiofd-capture/vfiofd-capture" "${plugins[@]}" -l 0 --file-prefix capture \
		-a "vfiofd:$bdf1" -- -w "$w/captured.pcap" --count $frames --duration 90 \
		> "$w/capture.log" 2>&1 &
	cap=$!
	for _ in $(seq 300); do grep -q '^capturing on' "$w/capture.log" && break; sleep 0.1; done
	check "$(grep -q '^capturing on' "$w/capture.log"; echo $?)" "vfiofd-capture is receiving on vfiofd:$bdf1"
	"$tool" send "${plugins[@]}" -l 1 --file-prefix sender -a "vfiofd:$bdf0" -- "$w/sent.pcap" 300 \
		> "$w/send.log" 2>&1
	check $? "pcap_tool sent $(grep -o 'frames=[0-9]*' "$w/send.log") out of vfiofd:$bdf0"
	wait $cap
	check $? "vfiofd-capture finished: $(grep '^CAPTURE' "$w/capture.log")"
	"$tool" compare "$w/sent.pcap" "$w/captured.pcap" > "$w/compare.log" 2>&1
	check $? "read back with libpcap: $(tail -n 1 "$w/compare.log")"
	sed 's/^/# /' "$w/capture.log" "$w/send.log" "$w/compare.log" | head -n 40
	;;
l2fwd)
	"$B/examples/vfiofd-l2fwd/vfiofd-l2fwd" "${plugins[@]}" -l 0 --file-prefix l2fwd \
		-a "vfiofd:$bdf0" -a "vfiofd:$bdf1" -- --duration 3 --vfiofd-only --tx-first 32 \
		> "$w/l2fwd.log" 2>&1
	check $? "vfiofd-l2fwd ran for 3 s on two vfiofd ports"
	sed 's/^/# /' "$w/l2fwd.log"
	check "$(grep -c '(vfiofd)$' "$w/l2fwd.log" | grep -qx 2; echo $?)" "both ports found on the vfiofd bus"
	check "$(awk '/^L2FWD/ { split($3, f, "="); if (f[2] < 10000) bad = 1; n++ } END { exit !(n == 2 && !bad) }' "$w/l2fwd.log"; echo $?)" \
		"each port forwarded at least 10,000 frames"
	;;
esac
rm -rf "$w"
echo "1..$n"
[ "$failed" = 0 ]
