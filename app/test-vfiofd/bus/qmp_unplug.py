#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Host hook of the hot-unplug tests (scripts/vm-run.sh --host-hook): hot-unplugs NICs
# when the guest asks, and reports QEMU's DEVICE_DELETED event back to it.
#
# The guest writes <results>/unplug.<id>.req (id: a QEMU device id such as nic1) once
# its program runs; this hook then sends QMP device_del for <id>, writes
# unplug.<id>.sent, and when QEMU reports DEVICE_DELETED for <id> (which happens only
# once the guest released the device) writes unplug.<id>.deleted holding the seconds
# since device_del. It exits when QEMU closes the QMP socket: 0 if every device it
# unplugged was deleted, 1 otherwise.
#
# Environment: VFIOFD_QMP (QMP unix socket), VFIOFD_VM_RESULTS (the results share).

import json
import os
import select
import socket
import sys
import time


def log(msg):
    print(f"# qmp_unplug: {msg}", file=sys.stderr, flush=True)


def main():
    qmp_path = os.environ["VFIOFD_QMP"]
    results = os.environ["VFIOFD_VM_RESULTS"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(qmp_path)
    buf = b""
    pending = {}   # id -> time of device_del
    deleted = {}   # id -> seconds from device_del to DEVICE_DELETED

    def send(obj):
        sock.sendall(json.dumps(obj).encode() + b"\n")

    send({"execute": "qmp_capabilities"})
    while True:
        r, _, _ = select.select([sock], [], [], 0.05)
        if r:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "error" in msg:
                    log(f"QMP error: {msg['error']}")
                if msg.get("event") == "DEVICE_DELETED":
                    dev = msg.get("data", {}).get("device")
                    if dev in pending and dev not in deleted:
                        dt = time.monotonic() - pending[dev]
                        deleted[dev] = dt
                        log(f"DEVICE_DELETED {dev} {dt:.3f} s after device_del")
                        with open(os.path.join(results, f"unplug.{dev}.deleted"), "w") as f:
                            f.write(f"{dt:.3f}\n")
        try:
            names = os.listdir(results)
        except OSError:
            names = []
        for n in names:
            if not (n.startswith("unplug.") and n.endswith(".req")):
                continue
            dev = n[len("unplug."):-len(".req")]
            if dev in pending:
                continue
            pending[dev] = time.monotonic()
            send({"execute": "device_del", "arguments": {"id": dev}})
            log(f"device_del {dev}")
            with open(os.path.join(results, f"unplug.{dev}.sent"), "w") as f:
                f.write("sent\n")
    missing = [d for d in pending if d not in deleted]
    if missing:
        log(f"no DEVICE_DELETED for {', '.join(missing)}: the guest never released it")
        return 1
    log(f"done: {len(deleted)} device(s) deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
