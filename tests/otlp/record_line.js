// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// How the test receivers record a request: one JSON line appended to the
// --out file, synchronously (written before the answer goes out), with
// bytes as lowercase hex, the way trace and span ids are usually written.
'use strict';

const fs = require('fs');

function jsonReplacer(key, value) {
	if (value && value.type === 'Buffer' && Array.isArray(value.data))
		return Buffer.from(value.data).toString('hex');
	if (value instanceof Uint8Array)
		return Buffer.from(value).toString('hex');
	return value;
}

module.exports = function recordLine(file, line) {
	fs.appendFileSync(file, JSON.stringify(line, jsonReplacer) + '\n');
};
