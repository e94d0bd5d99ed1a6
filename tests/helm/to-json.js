#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// A YAML stream (helm template's output) on standard input, as one JSON
// array of its documents on standard output, for jq.
'use strict';

const fs = require('fs');
const YAML = require('yaml');

// Kubernetes reads manifests as YAML 1.1 (0440 is octal there).
const K8S_YAML = { version: '1.1' };

const docs = YAML.parseAllDocuments(fs.readFileSync(0, 'utf8'),
	K8S_YAML)
	.map((doc) => {
		if (doc.errors.length)
			throw new Error(doc.errors[0].message);
		return doc.toJS();
	})
	.filter((doc) => doc !== null);
process.stdout.write(`${JSON.stringify(docs)}\n`);
