#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A thread-per-request HTTP/1.1 server for tests/e2e/http.bats, on Python's
own http.server: every request is handled by one thread, start to end.

  /slow?s=SECONDS        works (sleeps) that long before it answers
  /call?port=N&path=P    answers after a GET of P from 127.0.0.1:N, made by
                         the thread that serves the request

It listens on a free loopback port and prints it once it accepts."""
import http.client
import http.server
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/slow":
            time.sleep(float(query.get("s", "1")))
            body = b"done\n"
        elif url.path == "/call":
            upstream = http.client.HTTPConnection("127.0.0.1",
                                                  int(query["port"]))
            upstream.request("GET", query.get("path", "/"))
            status = upstream.getresponse()
            status.read()
            upstream.close()
            body = b"upstream said %d\n" % status.status
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
