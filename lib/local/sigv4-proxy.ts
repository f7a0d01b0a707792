/**
 * Stands in for Amazon Managed Prometheus in tests: verifies each request's SigV4 signature
 * (service `aps`, the expected region, a known access key) by signing the same request again with
 * @smithy/signature-v4, rejects a wrong or missing one with 403 as AMP does, and forwards a good
 * one to a real Prometheus, with the workspace prefix taken off the path.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SigV4Proxy {
  /** The `address` for a prometheus metric: http://127.0.0.1:<port>/workspaces/<id>. */
  address: string;
  /** What the proxy decided, one entry per request: 'forwarded' or the rejection reason. */
  decisions: string[];
  close(): Promise<void>;
}

export async function startSigV4Proxy(options: {
  upstream: string;
  region: string;
  workspace: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<SigV4Proxy> {
  const decisions: string[] = [];
  const prefix = `/workspaces/${options.workspace}`;
  const signer = new SignatureV4({
    service: 'aps',
    region: options.region,
    sha256: Sha256,
    credentials: options.credentials,
  });

  const reject = (res: ServerResponse, reason: string) => {
    decisions.push(reason);
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: reason }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        req.headers.authorization ?? '',
      );
    if (!auth) return reject(res, 'Missing Authentication Token');
    const [, accessKey, , region, service, signedHeaders, signature] = auth as unknown as string[];
    if (accessKey !== options.credentials.accessKeyId)
      return reject(res, 'The security token included in the request is invalid.');
    if (service !== 'aps' || region !== options.region)
      return reject(
        res,
        `Credential should be scoped to a valid region and service aps (got ${region}/${service})`,
      );
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    if (Number.isNaN(signingDate.getTime())) return reject(res, 'Missing or malformed X-Amz-Date');
    const url = new URL(req.url ?? '/', 'http://proxy');
    const headers = Object.fromEntries(
      (signedHeaders as string).split(';').map((name) => [name, String(req.headers[name] ?? '')]),
    );
    const expected = await signer.sign(
      new HttpRequest({
        method: req.method ?? 'GET',
        protocol: 'http:',
        hostname: String(req.headers.host ?? '').split(':')[0],
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      }),
      { signingDate },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
    if (expectedSignature !== signature)
      return reject(
        res,
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    if (!url.pathname.startsWith(`${prefix}/`)) return reject(res, `no workspace at ${url.pathname}`);
    decisions.push('forwarded');
    const upstream = new URL(url.pathname.slice(prefix.length) + url.search, options.upstream);
    const forward = request(
      upstream,
      {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type'] ?? '') },
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502);
      res.end(error.message);
    });
    forward.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString()).catch((error: Error) => {
        res.writeHead(500);
        res.end(error.message);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}${prefix}`,
    decisions,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
