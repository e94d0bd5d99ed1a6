#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Checks that every metric and label the Grafana dashboard queries is one
// the agent exports, so the dashboard cannot drift from agent/report/metric_samples.c.
//
// usage: dashboard-metrics.js agent/report/metric_samples.c DASHBOARD.json \
//          [agent/serve/prometheus.c]
//
// The last says which labels name the process of a sample: those
// prometheus.c writes (service.name, process.pid, workload...) and the
// attributes of its table of where a process runs (k8s.namespace.name).
//
// The agent declares its metrics in OpenTelemetry form (name, unit, type,
// attribute keys); /metrics renders them the way the OpenTelemetry
// specification maps them to Prometheus: characters outside [a-zA-Z0-9_:]
// become '_', the unit becomes a suffix (curly-brace annotations are
// dropped, "s" is "seconds"), counters end in _total, and histograms are
// the _bucket, _sum and _count series.  Prints the names the dashboard
// uses; exits 1 naming each one that is not exported.
'use strict';

const fs = require('fs');

// Units the specification spells out for Prometheus; annotations ({wait})
// have no suffix at all.
const UNIT_WORDS = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': '' };
// Labels that do not come from metric attributes: the histogram bucket
// bound, and the node the ServiceMonitor's relabeling adds.
const OTHER_LABELS = ['le', 'node'];
// PromQL words that are neither metrics nor labels.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left',
	'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

function promName(text) {
	return text.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
}

function unitSuffix(unit) {
	const bare = unit.replace(/\{[^}]*\}/g, '');
	if (!bare)
		return '';
	return bare in UNIT_WORDS ? UNIT_WORDS[bare] : promName(bare);
}

// { names: Set of series names, labels: Set of label names }
function exported(source) {
	const names = new Set();
	const declared = [];
	const desc = /static const struct ks_metric_desc \w+ = \{([\s\S]*?)\};/g;
	for (const m of source.matchAll(desc)) {
		const strings = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)]
			.map((s) => s[1]);
		const type = m[1].match(/KS_METRIC_(COUNTER|GAUGE|HISTOGRAM)/);
		if (strings.length < 2 || !type)
			throw new Error(`cannot read the descriptor: ${m[1]}`);
		const [name, unit] = strings;
		declared.push(name);
		let base = promName(name);
		const suffix = unitSuffix(unit);
		if (suffix && !base.endsWith(`_${suffix}`))
			base += `_${suffix}`;
		if (type[1] === 'COUNTER')
			names.add(`${base}_total`);
		else if (type[1] === 'GAUGE')
			names.add(base);
		else
			for (const s of ['_bucket', '_sum', '_count'])
				names.add(base + s);
	}
	if (!names.size)
		throw new Error('no ks_metric_desc found in metric_samples.c');
	// Attribute keys are the other "knotscope.*" literals, and the
	// semantic conventions' keys of typed attributes (.key = "...").
	const labels = new Set(OTHER_LABELS);
	for (const m of source.matchAll(/"(knotscope\.[a-z_.]+)"/g))
		if (!declared.includes(m[1]))
			labels.add(promName(m[1]));
	for (const m of source.matchAll(/\.key = "([a-z_.]+)"/g))
		labels.add(promName(m[1]));
	return { names, labels };
}

// Every PromQL expression of the dashboard: panel targets (rows nest
// panels) and variable queries.
function expressions(dashboard) {
	const exprs = [];
	const walk = (panels) => {
		for (const p of panels || []) {
			for (const t of p.targets || [])
				if (t.expr)
					exprs.push(t.expr);
			walk(p.panels);
		}
	};
	walk(dashboard.panels);
	for (const v of (dashboard.templating || {}).list || []) {
		const q = typeof v.query === 'object' ? v.query.query : v.query;
		if (v.type === 'query' && q)
			exprs.push(q);
	}
	return exprs;
}

// The metric and label names one expression uses.
function used(expr) {
	const metrics = [];
	const labels = [];
	let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
	// label_values(METRIC, LABEL): a Grafana function, not PromQL.
	rest = rest.replace(/label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)/g,
		(_, selector, label) => {
			labels.push(label);
			return selector;
		});
	rest = rest.replace(/\{([^}]*)\}/g, (_, matchers) => {
		for (const m of matchers.matchAll(/(\w+)\s*(=~|!~|!=|=)/g))
			labels.push(m[1]);
		return ' ';
	});
	rest = rest.replace(/\b(by|without|on|ignoring)\s*\(([^)]*)\)/g,
		(_, word, list) => {
			labels.push(...list.split(',').map((s) => s.trim())
				.filter(Boolean));
			return ' ';
		});
	rest = rest.replace(/\[[^\]]*\]/g, ' ');
	for (const m of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
		const after = rest.slice(m.index + m[0].length).trimStart();
		if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase()))
			continue;
		metrics.push(m[0]);
	}
	return { metrics, labels };
}

// The labels that name a process: the attribute keys prometheus.c labels
// every process's samples with, by name or from its table of where a
// process runs (ks_placement).
function identityLabels(prometheusC) {
	const labels = [];
	const prom = fs.readFileSync(prometheusC, 'utf8');
	for (const m of prom.matchAll(/ks_prom_label\(out, first, "([a-z_.]+)"/g))
		labels.push(promName(m[1]));
	const placement = prom.match(/ks_placement\[\] = \{([^}]*)\}/);
	if (!labels.length || !placement)
		throw new Error('cannot read the process labels');
	for (const m of placement[1].matchAll(/"([a-z][a-z0-9_.]*)"/g))
		labels.push(promName(m[1]));
	return labels;
}

function main() {
	const [metricsC, dashboardPath, prometheusC] = process.argv.slice(2);
	if (!metricsC || !dashboardPath) {
		console.error('usage: dashboard-metrics.js metric_samples.c dashboard.json [prometheus.c]');
		process.exit(2);
	}
	const { names, labels } = exported(fs.readFileSync(metricsC, 'utf8'));
	if (prometheusC)
		for (const l of identityLabels(prometheusC))
			labels.add(l);
	const exprs = expressions(JSON.parse(fs.readFileSync(dashboardPath,
		'utf8')));
	const problems = [];
	const seen = new Set();
	if (!exprs.length)
		problems.push('the dashboard has no PromQL expression');
	for (const expr of exprs) {
		const u = used(expr);
		if (!u.metrics.length)
			problems.push(`no metric in: ${expr}`);
		for (const m of u.metrics) {
			seen.add(m);
			if (!names.has(m))
				problems.push(`${m} is not exported (in: ${expr})`);
		}
		for (const l of u.labels)
			if (!labels.has(l))
				problems.push(`label ${l} is not exported (in: ${expr})`);
	}
	for (const m of [...seen].sort())
		console.log(m);
	for (const p of problems)
		console.error(`dashboard-metrics: ${p}`);
	process.exit(problems.length ? 1 : 0);
}

main();
