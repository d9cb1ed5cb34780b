#!/usr/bin/env python3
"""A slow link on loopback: a TCP proxy that relays both directions and limits the
upstream -> client direction to a rate (token bucket), the way a school's 1 Mbit/s line would.

    shape_proxy.py --listen PORT --upstream HOST:PORT --rate BYTES_PER_SEC [--rcvbuf BYTES]

Loopback hides slow links: the kernel buffers megabytes between two local sockets, so a server
whose writes must finish within a deadline never notices a slow reader. The proxy therefore
sets SO_RCVBUF (default 65536) on its socket towards the upstream before connecting (the
receive window the upstream sees stays small), and reads from the upstream only as fast as the
rate lets it send on: the upstream's writes back up as they would behind a slow line.

Standard library only (asyncio). Runs until killed; one line per connection on stderr.
"""

import argparse
import asyncio
import socket
import sys
import time

# Bytes read from the upstream at a time: small enough that the bucket, not the read size,
# sets the pace at low rates.
READ_BYTES = 16 * 1024


class TokenBucket:
    """Shared by every connection through the proxy: the line's rate is for all of them."""

    def __init__(self, rate):
        self.rate = float(rate)
        self.burst = max(READ_BYTES, self.rate / 10)  # at most 100 ms of line time at once
        self.tokens = 0.0
        self.last = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n):
        async with self.lock:  # first come, first served: connections share the line
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                await asyncio.sleep((n - self.tokens) / self.rate)


async def pump(reader, writer, bucket=None):
    try:
        while True:
            data = await reader.read(READ_BYTES if bucket else 65536)
            if not data:
                break
            if bucket:
                await bucket.take(len(data))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            writer.close()


async def open_upstream(host, port, rcvbuf):
    info = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, _, _, _, address = info[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: the window
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, address)
    return await asyncio.open_connection(sock=sock)


def make_handler(args, bucket):
    host, port = args.upstream.rsplit(":", 1)

    async def handle(client_reader, client_writer):
        peer = client_writer.get_extra_info("peername")
        try:
            up_reader, up_writer = await open_upstream(host, int(port), args.rcvbuf)
        except OSError as e:
            print(f"shape_proxy: {peer}: upstream {args.upstream}: {e}", file=sys.stderr)
            client_writer.close()
            return
        started = time.monotonic()
        await asyncio.gather(pump(client_reader, up_writer),
                             pump(up_reader, client_writer, bucket))
        for w in (client_writer, up_writer):
            w.close()
        print(f"shape_proxy: {peer}: closed after {time.monotonic() - started:.1f} s",
              file=sys.stderr)

    return handle


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    p.add_argument("--upstream", required=True, help="HOST:PORT")
    p.add_argument("--rate", type=int, required=True, help="upstream -> client, bytes/s")
    p.add_argument("--rcvbuf", type=int, default=65536, help="SO_RCVBUF towards the upstream")
    args = p.parse_args()
    if args.rate <= 0:
        p.error("--rate must be positive")
    server = await asyncio.start_server(make_handler(args, TokenBucket(args.rate)), "127.0.0.1",
                                        args.listen, reuse_address=True)
    print(f"shape_proxy: 127.0.0.1:{args.listen} -> {args.upstream} at {args.rate} B/s",
          file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
