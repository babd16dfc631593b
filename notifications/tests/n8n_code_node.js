// Runs the n8n workflow's Code node under plain Node.js, with the few n8n globals it uses.
// Reads {code, headers, body_b64, staticData} on stdin; prints {ok, out|error, staticData}.
const fs = require('fs');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const raw = Buffer.from(input.body_b64, 'base64');
const item = {
  json: { headers: input.headers, body: JSON.parse(raw.toString('utf8')) },
  binary: { data: { data: input.body_b64, mimeType: 'application/json' } },
};
const staticData = input.staticData || {};
const context = {
  helpers: { getBinaryDataBuffer: async (index, name) => Buffer.from(item.binary[name].data, 'base64') },
};
const $input = { first: () => item, all: () => [item] };
const $getWorkflowStaticData = () => staticData;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const node = new AsyncFunction('$input', '$getWorkflowStaticData', 'require', input.code);
node
  .call(context, $input, $getWorkflowStaticData, require)
  .then((out) => console.log(JSON.stringify({ ok: true, out, staticData })))
  .catch((error) => console.log(JSON.stringify({ ok: false, error: error.message, staticData })));
