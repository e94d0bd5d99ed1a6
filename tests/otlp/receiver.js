#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// An OTLP/HTTP receiver for knotscope's end-to-end tests.  It decodes with
// the code OpenTelemetry generated from the official .proto files (shipped
// in @opentelemetry/otlp-transformer), not with anything of knotscope's, so
// a wrong field number or wire type on our side shows up as a wrong value
// here.
//
// Every request becomes one JSON line in the --out file, written before the
// answer goes out: once the sender has its answer, the line is on disk.
// signal names the Export request (as grpc_receiver.js does too).
// 64-bit integers are strings, enums numbers, bytes lowercase hex.
//
// Answers are scripted: --statuses 503,503,200 answers the first request
// 503, the second 503 and all later ones 200 (the last status repeats);
// --retry-after VALUE adds that header to 429 and 503 answers; --rejected N
// (with --error-message TEXT) puts a partial_success into 2xx answers.
// --headers-only still decodes every request (an undecodable one is
// answered 400) but records only its headers, for benchmarks that send a
// lot; with --bodies-for PATH the requests to PATH keep their bodies.
// With --tls-cert/--tls-key it serves HTTPS, and with --tls-ca it also
// requires a client certificate signed by that CA.  --hang records each
// request and never answers it: a collector that hangs.
//
// It listens on 127.0.0.1 on a free port (or on --port), printed alone on
// stdout once it accepts connections; diagnostics go to stderr.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const zlib = require('zlib');
const { parseArgs } = require('util');
const recordLine = require('./record_line');

const root = require(path.join(__dirname, 'node_modules', '@opentelemetry',
	'otlp-transformer', 'build', 'src', 'generated', 'root.js'));
const collector = root.opentelemetry.proto.collector;

const signals = {
	'/v1/traces': {
		name: 'traces',
		request: collector.trace.v1.ExportTraceServiceRequest,
		response: collector.trace.v1.ExportTraceServiceResponse,
		rejectedField: 'rejectedSpans',
	},
	'/v1/metrics': {
		name: 'metrics',
		request: collector.metrics.v1.ExportMetricsServiceRequest,
		response: collector.metrics.v1.ExportMetricsServiceResponse,
		rejectedField: 'rejectedDataPoints',
	},
	'/v1/logs': {
		name: 'logs',
		request: collector.logs.v1.ExportLogsServiceRequest,
		response: collector.logs.v1.ExportLogsServiceResponse,
		rejectedField: 'rejectedLogRecords',
	},
};

const { values: options } = parseArgs({
	options: {
		out: { type: 'string' },
		statuses: { type: 'string', default: '200' },
		'retry-after': { type: 'string' },
		rejected: { type: 'string' },
		'error-message': { type: 'string', default: '' },
		'tls-cert': { type: 'string' },
		'tls-key': { type: 'string' },
		'tls-ca': { type: 'string' },
		'headers-only': { type: 'boolean', default: false },
		hang: { type: 'boolean', default: false },
		'bodies-for': { type: 'string' },
		port: { type: 'string', default: '0' },
	},
});
if (!options.out) {
	console.error('receiver: --out FILE is required');
	process.exit(2);
}
const statuses = options.statuses.split(',').map(Number);
let requestCount = 0;

function nextStatus() {
	const status = statuses[Math.min(requestCount, statuses.length - 1)];
	requestCount++;
	return status;
}

function decode(req, body) {
	const signal = signals[req.url];

	if (req.method !== 'POST' || !signal)
		throw new Error(`unexpected ${req.method} ${req.url}`);
	if (req.headers['content-encoding'] === 'gzip')
		body = zlib.gunzipSync(body);
	else if (req.headers['content-encoding'])
		throw new Error(`unknown encoding ${req.headers['content-encoding']}`);
	return signal.request.toObject(signal.request.decode(body), {
		longs: String,
		enums: Number,
	});
}

function answerBody(req, status) {
	const signal = signals[req.url];

	if (status < 200 || status > 299 || options.rejected === undefined)
		return Buffer.alloc(0);
	return Buffer.from(signal.response.encode({
		partialSuccess: {
			[signal.rejectedField]: Number(options.rejected),
			errorMessage: options['error-message'],
		},
	}).finish());
}

function handle(req, res) {
	const chunks = [];

	req.on('data', (chunk) => chunks.push(chunk));
	req.on('end', () => {
		const line = {
			t_ms: Date.now(),
			signal: signals[req.url] ? signals[req.url].name : null,
			method: req.method,
			path: req.url,
			// The same port for several requests: a kept-alive connection.
			remote_port: req.socket.remotePort,
			headers: req.headers,
		};
		let status;

		try {
			const body = decode(req, Buffer.concat(chunks));

			if (!options['headers-only'] ||
			    req.url === options['bodies-for'])
				line.body = body;
			status = nextStatus();
		} catch (err) {
			line.error = String(err);
			status = 400;
			console.error(`receiver: ${err}`);
		}
		line.status = status;
		recordLine(options.out, line);
		if (options.hang)
			return;
		const headers = { 'Content-Type': 'application/x-protobuf' };
		if ((status === 429 || status === 503) &&
		    options['retry-after'] !== undefined)
			headers['Retry-After'] = options['retry-after'];
		res.writeHead(status, headers);
		res.end(answerBody(req, status));
	});
}

function createServer() {
	if (!options['tls-cert'])
		return http.createServer(handle);
	return https.createServer({
		cert: fs.readFileSync(options['tls-cert']),
		key: fs.readFileSync(options['tls-key']),
		ca: options['tls-ca'] ? fs.readFileSync(options['tls-ca']) : undefined,
		requestCert: Boolean(options['tls-ca']),
		rejectUnauthorized: Boolean(options['tls-ca']),
	}, handle);
}

const server = createServer();
server.listen(Number(options.port), '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
// Lines are written synchronously: nothing is lost by exiting at once.
process.on('SIGTERM', () => process.exit(0));
