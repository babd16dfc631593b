// Runs one of the n8n workflow's Code nodes under plain Node.js, with the n8n globals they use.
// Reads {code, headers, body_b64, staticData, env, allowBuiltin, nodes} on stdin; prints
// {ok, out|error, staticData}. With allowBuiltin false, require() refuses as n8n does when
// NODE_FUNCTION_ALLOW_BUILTIN does not name the module; `nodes` holds earlier nodes' output
// items, for $('Node name').
const fs = require('fs');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const raw = Buffer.from(input.body_b64 || '', 'base64');
const item = input.items ? input.items[0] : {
  json: { headers: input.headers, body: JSON.parse(raw.toString('utf8')) },
  binary: { data: { data: input.body_b64, mimeType: 'application/json' } },
};
const staticData = input.staticData || {};
const context = {
  helpers: { getBinaryDataBuffer: async (index, name) => Buffer.from(item.binary[name].data, 'base64') },
};
const $input = { first: () => item, all: () => [item] };
const $getWorkflowStaticData = (type) => (staticData[type] = staticData[type] || {});
const $env = input.env || {};
const $ = (name) => {
  const items = (input.nodes || {})[name];
  if (!items) throw new Error(`Referenced node doesn't exist: ${name}`);
  return { first: () => items[0], all: () => items };
};
const sandboxRequire = (name) => {
  if (input.allowBuiltin === false) throw new Error(`Cannot find module '${name}'`);
  return require(name);
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const node = new AsyncFunction('$input', '$getWorkflowStaticData', '$env', '$', 'require', input.code);
node
  .call(context, $input, $getWorkflowStaticData, $env, $, sandboxRequire)
  .then((out) => console.log(JSON.stringify({ ok: true, out, staticData })))
  .catch((error) => console.log(JSON.stringify({ ok: false, error: error.message, staticData })));
