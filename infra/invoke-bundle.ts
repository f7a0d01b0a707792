/**
 * Invokes a bundled Lambda handler as the Node.js runtime does: a fresh process imports the bundle
 * (the init phase), then calls `handler(event, context)` once. Run by plain `node` (Node 24 strips
 * the types), so nothing but the bundle and Node's own modules is loaded.
 *
 *   node infra/invoke-bundle.ts <bundle/index.mjs> <event.json> <result.json>
 *
 * The result file holds the handler's return value, or the error as Lambda reports it
 * (errorType, errorMessage), and how long the import and the first invocation took.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, resultFile] = process.argv.slice(2);
if (!bundle || !eventFile || !resultFile) {
  console.error('usage: node infra/invoke-bundle.ts <bundle/index.mjs> <event.json> <result.json>');
  process.exit(2);
}
const event: unknown = JSON.parse(readFileSync(eventFile, 'utf8'));
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bundle';
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: `invoke-${process.pid}`,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: '2026/11/26/[$LATEST]0000',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

const started = performance.now();
const module = (await import(pathToFileURL(bundle).href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const imported = performance.now();
const timing = () => ({ importMs: imported - started, invokeMs: performance.now() - imported });
const node = process.versions.node;
try {
  const result = await module.handler(event, context);
  writeFileSync(resultFile, JSON.stringify({ ok: true, result, node, ...timing() }));
} catch (error) {
  const { name, message } = error as Error;
  writeFileSync(
    resultFile,
    JSON.stringify({ ok: false, errorType: name, errorMessage: message, node, ...timing() }),
  );
}
