#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Host hook of the vm_pmd_lsc test (scripts/vm-run.sh --host-hook): when the guest says
# it is ready (file lsc-ready in the results share), turn nic0's link off through QMP;
# when it has seen the link go down (lsc-down-seen), turn it on again.
import json
import os
import socket
import sys
import time

qmp_path = os.environ["VFIOFD_QMP"]
results = os.environ["VFIOFD_VM_RESULTS"]


def wait_file(name, timeout):
    path = os.path.join(results, name)
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.2)
    return False


def qmp_connect(timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(qmp_path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            return s, f
        except OSError:
            time.sleep(0.2)
    sys.exit("lsc_hook: cannot connect to QMP at %s" % qmp_path)


def qmp(f, cmd, **args):
    f.write(json.dumps({"execute": cmd, "arguments": args} if args else
                       {"execute": cmd}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r


if not wait_file("lsc-ready", 240):
    print("lsc_hook: the guest never became ready")
    sys.exit(0)  # the guest test fails on its own
s, f = qmp_connect()
qmp(f, "qmp_capabilities")
print("lsc_hook: set_link nic0 off:", qmp(f, "set_link", name="nic0", up=False))
wait_file("lsc-down-seen", 90)
print("lsc_hook: set_link nic0 on:", qmp(f, "set_link", name="nic0", up=True))
s.close()
