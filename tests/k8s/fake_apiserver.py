#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A Kubernetes API server as small as a node agent's tests need.

Serves, over TLS with a bearer token, what an agent watching its node's
pods asks for, in the API's own shapes:

  GET /api/v1/pods?fieldSelector=spec.nodeName=N[&limit=&continue=]
      a PodList of the pods on node N, in pages (--page-size)
  GET /api/v1/pods?fieldSelector=...&watch=1&resourceVersion=RV
      a chunked stream of watch events after RV ({"type", "object"}),
      held open for new ones until timeoutSeconds; ERROR 410 (Expired)
      when RV is older than what is kept
  GET /apis/apps/v1/namespaces/NS/replicasets/NAME, /apis/batch/v1/.../jobs/NAME
      the objects of the fixtures directory, else a 404 Status

Pods, ReplicaSets and Jobs come from --fixtures (pods.json: a PodList;
replicaset-*.json, job-*.json).  A second, plain HTTP listener takes the
test's orders: POST /event (a watch event, applied and streamed), POST
/expire (watches end with 410, history is dropped), POST /fail?status=N
(every API request answers N) and POST /recover.  Every API request is
logged to --log as a JSON line.  Prints "API_PORT CONTROL_PORT" once both
listen.
"""
import argparse
import glob
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, fixtures, page_size):
        with open(os.path.join(fixtures, 'pods.json')) as f:
            podlist = json.load(f)
        self.version = int(podlist['metadata']['resourceVersion'])
        self.pods = {p['metadata']['uid']: p for p in podlist['items']}
        self.owners = {}
        for path in glob.glob(os.path.join(fixtures, '*.json')):
            with open(path) as f:
                obj = json.load(f)
            if obj.get('kind') in ('ReplicaSet', 'Job'):
                meta = obj['metadata']
                self.owners[(obj['kind'], meta['namespace'], meta['name'])] = obj
        self.history = []  # (version, event)
        self.oldest = self.version  # watches from before this get 410
        self.failing = None
        self.epoch = 0  # goes up on /expire: open watches end
        self.page_size = page_size
        self.cond = threading.Condition()

    def apply(self, event):
        with self.cond:
            self.version += 1
            obj = event['object']
            obj['metadata']['resourceVersion'] = str(self.version)
            uid = obj['metadata']['uid']
            if event['type'] == 'DELETED':
                self.pods.pop(uid, None)
            else:
                self.pods[uid] = {k: v for k, v in obj.items()
                                  if k not in ('kind', 'apiVersion')}
            self.history.append((self.version, event))
            self.cond.notify_all()

    def expire(self):
        with self.cond:
            self.history = []
            self.oldest = self.version
            self.epoch += 1
            self.cond.notify_all()


def status(code, reason, message):
    return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
            'status': 'Failure', 'message': message, 'reason': reason,
            'code': code}


class Api(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        auth = self.headers.get('Authorization', '')
        with open(self.server.log, 'a') as log:
            log.write(json.dumps({'path': url.path, 'query': query,
                                  'token_ok': auth == 'Bearer ' + self.server.token,
                                  'time': time.time()}) + '\n')
        if auth != 'Bearer ' + self.server.token:
            return self.send_json(401, status(401, 'Unauthorized', 'Unauthorized'))
        if state.failing:
            return self.send_json(state.failing, status(state.failing, 'ServiceUnavailable',
                                                        'the server is down for the test'))
        parts = url.path.strip('/').split('/')
        if url.path == '/api/v1/pods':
            field = query.get('fieldSelector', '')
            if not field.startswith('spec.nodeName='):
                return self.send_json(400, status(400, 'BadRequest', 'this test wants a node'))
            node = field[len('spec.nodeName='):]
            if query.get('watch') in ('1', 'true'):
                return self.watch(node, query)
            return self.list(node, query)
        if len(parts) == 7 and parts[0] == 'apis' and parts[3] == 'namespaces':
            kind = {'replicasets': 'ReplicaSet', 'jobs': 'Job'}.get(parts[5])
            obj = state.owners.get((kind, parts[4], parts[6]))
            if obj:
                return self.send_json(200, obj)
            return self.send_json(404, status(404, 'NotFound', 'not found'))
        return self.send_json(404, status(404, 'NotFound', 'no such path'))

    def list(self, node, query):
        state = self.server.state
        with state.cond:
            pods = sorted((p for p in state.pods.values()
                           if p['spec'].get('nodeName') == node),
                          key=lambda p: p['metadata']['uid'])
            version = state.version
        start = int(query.get('continue', '0') or 0)
        size = min(int(query.get('limit', '500')), state.page_size)
        page = pods[start:start + size]
        metadata = {'resourceVersion': str(version)}
        if start + size < len(pods):
            metadata['continue'] = str(start + size)
        self.send_json(200, {'kind': 'PodList', 'apiVersion': 'v1',
                             'metadata': metadata, 'items': page})

    def watch(self, node, query):
        state = self.server.state
        since = int(query.get('resourceVersion', '0') or 0)
        deadline = time.time() + int(query.get('timeoutSeconds', '1800'))
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        with state.cond:
            epoch = state.epoch
            expired = since < state.oldest
        try:
            if expired:
                self.chunk((json.dumps({'type': 'ERROR', 'object': status(
                    410, 'Expired', 'too old resource version: %d (%d)' %
                    (since, state.oldest))}) + '\n').encode())
            else:
                while time.time() < deadline:
                    with state.cond:
                        news = [(v, e) for v, e in state.history if v > since]
                        if not news and state.epoch == epoch:
                            state.cond.wait(min(1.0, max(0.0, deadline - time.time())))
                            continue
                        if state.epoch != epoch:
                            news = [(state.version, {'type': 'ERROR', 'object': status(
                                410, 'Expired', 'the test expired it')})]
                    for version, event in news:
                        if event['type'] == 'ERROR' or \
                                event['object']['spec'].get('nodeName') == node:
                            self.chunk((json.dumps(event) + '\n').encode())
                        since = version
                    if any(e['type'] == 'ERROR' for _, e in news):
                        break
            self.chunk(b'')
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        self.close_connection = True


class Control(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        state = self.server.state
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        if url.path == '/event':
            state.apply(json.loads(body))
        elif url.path == '/expire':
            state.expire()
        elif url.path == '/fail':
            state.failing = int(parse_qs(url.query)['status'][0])
        elif url.path == '/recover':
            state.failing = None
        else:
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--fixtures', required=True)
    parser.add_argument('--cert', required=True)
    parser.add_argument('--key', required=True)
    parser.add_argument('--token', required=True)
    parser.add_argument('--log', required=True)
    parser.add_argument('--page-size', type=int, default=500)
    args = parser.parse_args()

    state = State(args.fixtures, args.page_size)
    api = ThreadingHTTPServer(('127.0.0.1', 0), Api)
    api.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    control = ThreadingHTTPServer(('127.0.0.1', 0), Control)
    control.daemon_threads = True
    for server in (api, control):
        server.state = state
    api.token = args.token
    api.log = args.log
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(api.server_address[1], control.server_address[1], flush=True)
    api.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
