#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// An OTLP/gRPC receiver for knotscope's end-to-end tests: a real gRPC
// server (@grpc/grpc-js) serving the three Export services as
// @grpc/proto-loader reads them from the official .proto files (shipped in
// @elastic/mockotlpserver).  Requests are decoded, as receiver.js does,
// with the code OpenTelemetry generated from newer official protos
// (@opentelemetry/otlp-transformer: LogRecord.event_name is there).
// Nothing of knotscope's is used: a wrong method path, frame, field
// number or trailer on our side fails here.
//
// Every request becomes one JSON line in the --out file, in the shape
// receiver.js writes (signal, headers, body; 64-bit integers as strings,
// enums as numbers, bytes as lowercase hex), written before the answer
// goes out.  path is the gRPC method; status the gRPC status code sent.
//
// Answers are scripted: --statuses 14,14,0 answers the first two calls
// UNAVAILABLE and all later ones OK (the last code repeats);
// --retry-delay-ms N adds a google.rpc.RetryInfo with that delay to the
// status details of error answers; --rejected N (with --error-message
// TEXT) puts a partial_success into OK answers.  Error answers say 'try
// later' in grpc-message, or the --error-message.  With --tls-cert and
// --tls-key it serves TLS (HTTP/2 negotiated by ALPN).  --hang records
// each call and never answers it: a collector that hangs.
//
// It listens on 127.0.0.1 on a free port, printed alone on stdout once it
// accepts calls; diagnostics go to stderr.
'use strict';

const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const recordLine = require('./record_line');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const protoRoot = path.join(__dirname, 'node_modules', '@elastic',
	'mockotlpserver');
const generated = require(path.join(__dirname, 'node_modules',
	'@opentelemetry', 'otlp-transformer', 'build', 'src', 'generated',
	'root.js')).opentelemetry.proto.collector;
const services = {
	traces: {
		file: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
		service: 'opentelemetry.proto.collector.trace.v1.TraceService',
		request: generated.trace.v1.ExportTraceServiceRequest,
		rejectedField: 'rejectedSpans',
	},
	metrics: {
		file: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
		service: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
		request: generated.metrics.v1.ExportMetricsServiceRequest,
		rejectedField: 'rejectedDataPoints',
	},
	logs: {
		file: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
		service: 'opentelemetry.proto.collector.logs.v1.LogsService',
		request: generated.logs.v1.ExportLogsServiceRequest,
		rejectedField: 'rejectedLogRecords',
	},
};

const { values: options } = parseArgs({
	options: {
		out: { type: 'string' },
		statuses: { type: 'string', default: '0' },
		'retry-delay-ms': { type: 'string' },
		rejected: { type: 'string' },
		'error-message': { type: 'string', default: '' },
		'tls-cert': { type: 'string' },
		'tls-key': { type: 'string' },
		hang: { type: 'boolean', default: false },
	},
});
if (!options.out) {
	console.error('grpc_receiver: --out FILE is required');
	process.exit(2);
}
const statuses = options.statuses.split(',').map(Number);
let callCount = 0;

// grpc-js takes grpc-encoding out of the metadata handlers see; keep a
// copy under a name of our own, to record whether the call was compressed.
const fromHttp2Headers = grpc.Metadata.fromHttp2Headers;
grpc.Metadata.fromHttp2Headers = function (headers) {
	const metadata = fromHttp2Headers.call(this, headers);

	if (headers['grpc-encoding'])
		metadata.set('x-seen-grpc-encoding', String(headers['grpc-encoding']));
	return metadata;
};

// google.rpc.Status with a google.rpc.RetryInfo detail, as the OTLP
// specification's throttling section describes.
const statusTypes = protobuf.parse(`
syntax = "proto3";
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`).root;

function statusDetails(code, message, delayMs) {
	const RetryInfo = statusTypes.lookupType('RetryInfo');
	const Status = statusTypes.lookupType('Status');
	const retryInfo = RetryInfo.encode({
		retryDelay: {
			seconds: Math.floor(delayMs / 1000),
			nanos: (delayMs % 1000) * 1000000,
		},
	}).finish();

	return Buffer.from(Status.encode({
		code,
		message,
		details: [{
			typeUrl: 'type.googleapis.com/google.rpc.RetryInfo',
			value: retryInfo,
		}],
	}).finish());
}

function handler(signal, methodPath) {
	return (call, callback) => {
		const code = statuses[Math.min(callCount, statuses.length - 1)];
		const headers = call.metadata.getMap();
		const line = {
			t_ms: Date.now(),
			signal,
			path: methodPath,
			transport: 'grpc',
			remote_port: call.getPeer().split(':').pop(),
			headers,
			body: call.request,
			status: code,
		};

		callCount++;
		recordLine(options.out, line);
		if (options.hang)
			return;
		if (code !== grpc.status.OK) {
			const metadata = new grpc.Metadata();
			const details = options['error-message'] || 'try later';

			if (options['retry-delay-ms'] !== undefined)
				metadata.set('grpc-status-details-bin',
					statusDetails(code, details,
						Number(options['retry-delay-ms'])));
			callback({ code, details, metadata });
			return;
		}
		if (options.rejected === undefined) {
			callback(null, {});
			return;
		}
		callback(null, {
			partialSuccess: {
				[services[signal].rejectedField]: Number(options.rejected),
				errorMessage: options['error-message'],
			},
		});
	};
}

const server = new grpc.Server();
for (const [signal, spec] of Object.entries(services)) {
	const definition = protoLoader.loadSync(spec.file, {
		includeDirs: [protoRoot],
		longs: String,
		enums: Number,
	});
	const service = definition[spec.service];
	const Request = spec.request;

	service.Export.requestDeserialize = (bytes) =>
		Request.toObject(Request.decode(bytes),
			{ longs: String, enums: Number });
	server.addService(service, {
		Export: handler(signal, service.Export.path),
	});
}

const credentials = options['tls-cert'] ?
	grpc.ServerCredentials.createSsl(null, [{
		cert_chain: fs.readFileSync(options['tls-cert']),
		private_key: fs.readFileSync(options['tls-key']),
	}], false) :
	grpc.ServerCredentials.createInsecure();

server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
	if (err) {
		console.error(`grpc_receiver: ${err}`);
		process.exit(1);
	}
	process.stdout.write(`${port}\n`);
});
// Lines are written synchronously: nothing is lost by exiting at once.
process.on('SIGTERM', () => process.exit(0));
