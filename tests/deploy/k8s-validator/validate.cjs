// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Validates Kubernetes manifests against the Kubernetes API schema, offline.
//
//   node validate.cjs MODULES_DIR FILE...
//   node validate.cjs MODULES_DIR --to-json FILE
//
// MODULES_DIR is a directory where `npm ci` installed package.json beside
// this file. Each YAML document goes through two checks:
//  1. the JSON schema validator that kubernetes-models generates from the
//     Kubernetes OpenAPI spec (types, enums, required fields, formats);
//  2. a strict pass that rejects fields the API does not define, as
//     `kubectl apply --validate=strict` would, because the schema itself
//     allows unknown fields and the API server would drop them silently.
// The strict pass reads the field lists from the package's TypeScript
// declarations.
//
// Prints one line per problem and exits 1 if there was any. With --to-json
// it prints the documents of FILE as a JSON array instead.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage() {
	console.error('usage: validate.cjs MODULES_DIR FILE... | MODULES_DIR --to-json FILE');
	process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 2)
	usage();
const modulesDir = path.resolve(args[0]);
const requireModule = createRequire(path.join(modulesDir, 'package.json'));
const YAML = requireModule('yaml');

function readDocuments(file) {
	const text = fs.readFileSync(file, 'utf8');
	const documents = YAML.parseAllDocuments(text);
	const objects = [];
	for (const document of documents) {
		if (document.errors.length > 0)
			throw new Error(`${file}: invalid YAML: ${document.errors[0].message}`);
		const object = document.toJS();
		if (object !== null && object !== undefined)
			objects.push(object);
	}
	return objects;
}

// Maps apiVersion "apps/v1" to the module "kubernetes-models/apps/v1" and
// "v1" to "kubernetes-models/v1".
function modelModule(apiVersion) {
	return `kubernetes-models/${apiVersion}`;
}

// Field declarations of one interface in a .d.ts file, with the files that
// its imported type names come from.
const declarationCache = new Map();

function readDeclaration(file) {
	if (declarationCache.has(file))
		return declarationCache.get(file);
	const text = fs.readFileSync(file, 'utf8');
	const imports = new Map();
	for (const match of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm))
		imports.set(match[1], resolveDeclaration(match[2], path.dirname(file)));

	// The first interface is the model's own. Its fields sit at an indent
	// of four spaces, and a field's type may span lines until its ";".
	const start = text.search(/^export interface \w+/m);
	let fields = null;
	if (start >= 0) {
		const body = text.slice(text.indexOf('{', start) + 1, text.indexOf('\n}', start));
		fields = new Map();
		const lines = body.split('\n');
		for (let i = 0; i < lines.length; i++) {
			const match = lines[i].match(/^ {4}"([^"]+)"\??: (.*)$/);
			if (!match)
				continue;
			let type = match[2];
			while (!type.trimEnd().endsWith(';') && i + 1 < lines.length)
				type += ' ' + lines[++i].trim();
			fields.set(match[1], type.trim().replace(/;$/, ''));
		}
	}
	const declaration = { imports, fields };
	declarationCache.set(file, declaration);
	return declaration;
}

function resolveDeclaration(specifier, fromDir) {
	const bare = specifier.replace(/\.js$/, '');
	if (bare.startsWith('.'))
		return path.join(fromDir, bare + '.d.ts');
	return requireModule.resolve(bare).replace(/\.(c|m)?js$/, '.d.ts');
}

// Walks value against type (a declaration's type text) and records every
// field that the API does not define.
function checkFields(value, type, declaration, where, problems) {
	if (value === null || value === undefined)
		return;
	let match = type.match(/^Array<(.+)>$/);
	if (match) {
		if (Array.isArray(value))
			value.forEach((item, i) => checkFields(item, match[1], declaration, `${where}[${i}]`, problems));
		return;
	}
	match = type.match(/^\{ \[key: string\]: (.+); \}$/);
	if (match) {
		if (typeof value === 'object')
			for (const [key, item] of Object.entries(value))
				checkFields(item, match[1], declaration, `${where}.${key}`, problems);
		return;
	}
	const file = declaration.imports.get(type);
	if (!file || typeof value !== 'object' || Array.isArray(value))
		return;
	checkObject(value, readDeclaration(file), where, problems);
}

function checkObject(object, declaration, where, problems) {
	// Declarations without an interface describe scalars such as Quantity.
	if (declaration.fields === null)
		return;
	for (const [key, value] of Object.entries(object)) {
		const fieldPath = where ? `${where}.${key}` : key;
		const type = declaration.fields.get(key);
		if (type === undefined) {
			problems.push(`unknown field "${fieldPath}"`);
			continue;
		}
		checkFields(value, type, declaration, fieldPath, problems);
	}
}

function validateObject(object, where) {
	const problems = [];
	if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string')
		return [`${where}: missing apiVersion or kind`];
	const name = `${object.kind} ${object.metadata && object.metadata.name}`;

	let model;
	const moduleName = modelModule(object.apiVersion);
	try {
		model = requireModule(moduleName)[object.kind];
	} catch (error) {
		return [`${where}: ${name}: unknown apiVersion "${object.apiVersion}": ${error.message}`];
	}
	if (typeof model !== 'function')
		return [`${where}: ${name}: unknown kind "${object.kind}" in apiVersion "${object.apiVersion}"`];

	try {
		new model(object).validate();
	} catch (error) {
		const details = error.errors || error.details;
		if (Array.isArray(details)) {
			for (const detail of details)
				problems.push(`${where}: ${name}: ${detail.instancePath || '/'} ${detail.message}`);
		} else {
			problems.push(`${where}: ${name}: ${error.message}`);
		}
	}

	const modelFile = requireModule.resolve(`${moduleName}/${object.kind}`);
	const strict = [];
	checkObject(object, readDeclaration(modelFile.replace(/\.(c|m)?js$/, '.d.ts')), '', strict);
	for (const problem of strict)
		problems.push(`${where}: ${name}: ${problem}`);
	return problems;
}

function main() {
	if (args[1] === '--to-json') {
		if (args.length !== 3)
			usage();
		process.stdout.write(JSON.stringify(readDocuments(args[2])) + '\n');
		return 0;
	}
	let problems = [];
	let count = 0;
	for (const file of args.slice(1)) {
		readDocuments(file).forEach((object, i) => {
			count++;
			problems = problems.concat(validateObject(object, `${file}: document ${i + 1}`));
		});
	}
	for (const problem of problems)
		console.log(problem);
	if (count === 0) {
		console.log('no Kubernetes objects found');
		return 1;
	}
	console.log(`${count} objects checked, ${problems.length} problems`);
	return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
