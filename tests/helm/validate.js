#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Validates rendered manifests offline, the way an API server with strict
// field validation would, without a cluster:
//
//  - against the Kubernetes OpenAPI schemas, through the validators the
//    kubernetes-models packages compile from them (types, enums, required
//    fields, formats), and the prometheus-operator CRD schemas for
//    ServiceMonitor;
//  - for unknown fields, which those schemas allow but `kubectl apply`
//    (--validate=strict) refuses: each object is walked along the typed
//    interfaces the same packages declare next to each model (.d.ts).
//
// usage: validate.js [FILE]   (a YAML stream; standard input without FILE)
// Prints one line per document; exits 1 after naming every problem.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

// Kubernetes reads manifests as YAML 1.1 (0440 is octal there).
const K8S_YAML = { version: '1.1' };

// --- Where each kind's model lives.

function modelModule(apiVersion, kind) {
	const [group, version] = apiVersion.includes('/') ?
		apiVersion.split('/') : ['', apiVersion];
	if (group === 'monitoring.coreos.com')
		return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
	return group ? `kubernetes-models/${group}/${version}/${kind}` :
		`kubernetes-models/${version}/${kind}`;
}

// A module's declaration file, found the way its package lays them out.
function declarationFile(specifier, fromFile) {
	if (specifier.startsWith('.'))
		return path.resolve(path.dirname(fromFile), `${specifier}.d.ts`);
	const parts = specifier.split('/');
	const pkg = parts[0].startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1);
	const root = path.dirname(require.resolve(`${pkg.join('/')}/package.json`,
		{ paths: [fromFile ? path.dirname(fromFile) : __dirname] }));
	return path.join(root, ...parts.slice(pkg.length)) + '.d.ts';
}

// --- A small reader of the type syntax those declaration files use:
// interface references, Array<T>, inline object types, index signatures,
// unions of literals and primitives.

function tokenize(text) {
	const tokens = [];
	const re = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|("(?:[^"\\]|\\.)*")|([A-Za-z_$][\w$]*)|(-?[0-9]+(?:\.[0-9]+)?)|([{}<>[\]():;?|,.&])/gy;
	let m;
	while (re.lastIndex < text.length) {
		const at = re.lastIndex;
		m = re.exec(text);
		if (!m)
			throw new Error(`cannot read the type at: ${text.slice(at, at + 40)}`);
		if (m[1])
			tokens.push({ t: 'str', v: JSON.parse(m[1]) });
		else if (m[2])
			tokens.push({ t: 'id', v: m[2] });
		else if (m[3])
			tokens.push({ t: 'num', v: m[3] });
		else if (m[4])
			tokens.push({ t: 'p', v: m[4] });
	}
	return tokens;
}

class TypeReader {
	constructor(tokens) {
		this.tokens = tokens;
		this.i = 0;
	}

	peek(v) {
		const tok = this.tokens[this.i];
		return tok && (v === undefined || tok.v === v) ? tok : null;
	}

	take(v) {
		const tok = this.tokens[this.i++];
		if (!tok || (v !== undefined && tok.v !== v))
			throw new Error(`expected ${v} at token ${this.i}`);
		return tok;
	}

	type() {
		const alternatives = [this.primary()];
		while (this.peek('|')) {
			this.take('|');
			alternatives.push(this.primary());
		}
		return alternatives.length === 1 ? alternatives[0] : { kind: 'leaf' };
	}

	primary() {
		const tok = this.take();
		if (tok.v === '{')
			return this.members();
		if (tok.t === 'id' && tok.v === 'Array' && this.peek('<')) {
			this.take('<');
			const of = this.type();
			this.take('>');
			return { kind: 'array', of };
		}
		if (tok.t === 'id' && /^I[A-Z]/.test(tok.v))
			return { kind: 'ref', name: tok.v };
		// string, number, boolean, literals, any, null.
		return { kind: 'leaf' };
	}

	// After '{': properties and index signatures up to '}'.
	members() {
		const props = new Map();
		let index = null;
		while (!this.peek('}')) {
			if (this.peek('[')) {
				this.take('[');
				this.take();
				this.take(':');
				this.take();
				this.take(']');
				this.take(':');
				index = this.type();
			} else {
				const name = this.take().v;
				if (this.peek('?'))
					this.take('?');
				this.take(':');
				props.set(name, this.type());
			}
			if (this.peek(';'))
				this.take(';');
		}
		this.take('}');
		return { kind: 'object', props, index };
	}
}

// file -> { type, imports: name -> file }
const declarations = new Map();

function declaration(file) {
	if (declarations.has(file))
		return declarations.get(file);
	const text = fs.readFileSync(file, 'utf8');
	const imports = new Map();
	for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm))
		for (const name of m[1].split(',').map((s) => s.trim()))
			imports.set(name, m[2]);
	// One interface per file, the model's; aliases are re-exports of it.
	const body = text.match(/^export interface \w+(?: extends [^{]+)? \{$([\s\S]*?)^\}$/m);
	let type = { kind: 'leaf' };
	if (body) {
		const reader = new TypeReader(tokenize(`${body[1]}}`));
		type = reader.members();
	}
	const decl = { file, type, imports };
	declarations.set(file, decl);
	return decl;
}

// Unknown fields of value, typed by `type` declared in decl.
function unknownFields(value, type, decl, where, out) {
	if (type.kind === 'ref') {
		const specifier = decl.imports.get(type.name);
		if (!specifier)
			return;
		const target = declaration(declarationFile(specifier, decl.file));
		unknownFields(value, target.type, target, where, out);
	} else if (type.kind === 'array' && Array.isArray(value)) {
		value.forEach((item, i) =>
			unknownFields(item, type.of, decl, `${where}[${i}]`, out));
	} else if (type.kind === 'object' && value && typeof value === 'object' &&
		!Array.isArray(value)) {
		for (const [key, item] of Object.entries(value)) {
			const sub = type.props.get(key) || type.index;
			if (!sub)
				out.push(`${where}.${key}: unknown field`);
			else
				unknownFields(item, sub, decl, `${where}.${key}`, out);
		}
	}
}

// --- Validation of one document.

function validate(doc) {
	const problems = [];
	const { apiVersion, kind } = doc;
	if (!apiVersion || !kind)
		return ['no apiVersion or kind'];
	const module = modelModule(apiVersion, kind);
	let Model;
	try {
		Model = require(module)[kind];
	} catch (err) {
		return [`no schema for ${apiVersion} ${kind}`];
	}
	try {
		new Model(doc).validate();
	} catch (err) {
		problems.push(...err.message.split(', '));
	}
	const decl = declaration(declarationFile(module, null));
	unknownFields(doc, decl.type, decl, kind, problems);
	return problems;
}

function main() {
	const file = process.argv[2];
	const text = fs.readFileSync(file || 0, 'utf8');
	const docs = YAML.parseAllDocuments(text, K8S_YAML);
	let failed = 0;
	let count = 0;
	for (const parsed of docs) {
		if (parsed.errors.length) {
			console.error(`YAML: ${parsed.errors[0].message}`);
			failed++;
			continue;
		}
		const doc = parsed.toJS();
		if (doc === null)
			continue;
		count++;
		const name = `${doc.kind} ${doc.metadata && doc.metadata.name}`;
		const problems = validate(doc);
		console.log(`${problems.length ? 'INVALID' : 'valid'} ${name}`);
		for (const p of problems)
			console.error(`${name}: ${p}`);
		failed += problems.length ? 1 : 0;
	}
	if (!count) {
		console.error('no manifest to validate');
		process.exit(1);
	}
	process.exit(failed ? 1 : 0);
}

main();
