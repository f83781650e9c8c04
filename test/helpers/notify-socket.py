"""A stand-in for systemd's notify socket, for tests: binds a Unix datagram socket at
argv[1], prints each message it receives as one line (fields joined by '|') and
closes any file descriptors passed with it (systemd-notify's barrier waits for that)."""
import array
import os
import socket
import sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(16 * array.array("i").itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(data.decode("utf-8", "replace").strip().replace("\n", "|"), flush=True)
