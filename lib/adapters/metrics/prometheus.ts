/**
 * The `prometheus` provider: an instant query against any HTTP(S) Prometheus API, including Amazon
 * Managed Prometheus signed with SigV4 (service `aps`). Results map as Argo Rollouts maps them:
 * a scalar is a number, a vector the list of its sample values, a matrix every sample of every
 * series in one list; `NaN`, `+Inf` and `-Inf` become the numbers they name.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { z } from 'zod';
import type { Measurement, MetricProvider } from '../../core/analysis/provider.js';
import { err, ok, type Result } from '../../core/result.js';
import type { AwsCredentials } from './aws-credentials.js';
import {
  effectiveTimeoutMs,
  headerRecord,
  headersSchema,
  reachableUrl,
  parseBlock,
  unsupported,
} from './block.js';
import { deadline, excerpt, send } from './http.js';
import { unreachableHint } from './reachability.js';

/** Argo's default when `timeout` is not set. */
const DEFAULT_TIMEOUT_SECONDS = 30;

export const prometheusSchema = z
  .object({
    address: reachableUrl('address'),
    query: z.string().min(1, 'query is empty'),
    timeout: z.number().int().min(1, 'timeout is in seconds and must be at least 1').optional(),
    insecure: z.boolean().optional(),
    headers: headersSchema.optional(),
    authentication: z
      .object({
        sigv4: z
          .object({
            region: z.string().optional(),
            profile: z.string().optional(),
            roleArn: z.string().optional(),
          })
          .strict()
          .optional(),
        basicAuth: z
          .object({ username: z.string().min(1), password: z.string().min(1) })
          .strict()
          .optional(),
        oauth2: unsupported('authentication.oauth2', 'use sigv4, basicAuth or an Authorization header'),
      })
      .strict()
      .optional(),
    rangeQuery: unsupported('rangeQuery', 'use a range function in the query, e.g. avg_over_time(x[5m])'),
  })
  .strict();

export type PrometheusBlock = z.infer<typeof prometheusSchema>;

export class PrometheusProvider implements MetricProvider {
  constructor(private readonly credentials: AwsCredentials) {}

  async measure(
    provider: Record<string, unknown>,
    options: { now: Date; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Result<Measurement, string>> {
    const parsed = parseBlock('prometheus', prometheusSchema, provider);
    if (!parsed.ok) return parsed;
    const block = parsed.value;
    const base = new URL(block.address);

    const timeoutMs = effectiveTimeoutMs(block.timeout ?? DEFAULT_TIMEOUT_SECONDS, options.timeoutMs);
    const signal = deadline(timeoutMs, options.signal);
    const url = queryUrl(base);
    const body = new URLSearchParams({ query: block.query, time: unixSeconds(options.now) }).toString();
    const headers: Record<string, string> = {
      ...headerRecord(block.headers),
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    };
    const basic = block.authentication?.basicAuth;
    if (basic)
      headers.authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    if (block.authentication?.sigv4) {
      const signed = await this.sign(url, headers, body, block.authentication.sigv4);
      if (!signed.ok) return err(`Prometheus at ${base.origin}: ${signed.error}`);
      Object.assign(headers, signed.value);
    }

    const reply = await send(
      { url, method: 'POST', headers, body, insecure: block.insecure, signal },
      timeoutMs,
    );
    if (!reply.ok)
      return err(`Prometheus at ${url.origin}: ${reply.error}${unreachableHint(url, reply.error)}`);
    return interpret(url, reply.value.status, reply.value.body);
  }

  /** SigV4 headers for Amazon Managed Prometheus (service `aps`). */
  private async sign(
    url: URL,
    headers: Record<string, string>,
    body: string,
    sigv4: NonNullable<NonNullable<PrometheusBlock['authentication']>['sigv4']>,
  ): Promise<Result<Record<string, string>, string>> {
    const region = sigv4.region || regionOf(url.hostname) || process.env.AWS_REGION;
    if (!region)
      return err(
        'authentication.sigv4.region is not set and the address names no region (aps-workspaces.<region>.amazonaws.com)',
      );
    const signer = new SignatureV4({
      service: 'aps',
      region,
      sha256: Sha256,
      credentials: this.credentials.for({ profile: sigv4.profile, roleArn: sigv4.roleArn }),
    });
    try {
      const signed = await signer.sign(
        new HttpRequest({
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          headers: { ...headers, host: url.host },
          body,
        }),
      );
      return ok(signed.headers);
    } catch (error) {
      const role = sigv4.roleArn ? ` (assuming ${sigv4.roleArn})` : '';
      return err(`no AWS credentials to sign with${role}: ${(error as Error).message}`);
    }
  }
}

function queryUrl(base: URL): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = '';
  return url;
}

function regionOf(hostname: string): string | undefined {
  return /^aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com/.exec(hostname)?.[1];
}

/** Prometheus takes `time` as Unix seconds with a fraction. */
function unixSeconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}

type Sample = [number, string];
interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  /** AWS's (Amazon Managed Prometheus) error bodies. */
  message?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Prometheus's answer as the value conditions see, or why there is none. */
export function interpret(url: URL, status: number, text: string): Result<Measurement, string> {
  const where = `Prometheus at ${url.origin}`;
  let body: ApiBody;
  try {
    body = JSON.parse(text) as ApiBody;
  } catch {
    return err(
      `${where} answered HTTP ${status} with a body that is not the Prometheus API's JSON: ${excerpt(text)}`,
    );
  }
  if (body.status === 'error' || status < 200 || status >= 300) {
    const reason = body.error
      ? `${body.errorType ?? 'error'}: ${body.error}`
      : (body.message ?? excerpt(text));
    return err(`${where} rejected the query (HTTP ${status}): ${reason}`);
  }
  const result = body.data?.result;
  switch (body.data?.resultType) {
    case 'scalar': {
      const value = sampleValue(result as Sample);
      return value.ok ? ok({ value: value.value }) : value;
    }
    case 'vector':
      return collect(result as { value?: Sample; histogram?: unknown }[], (series) =>
        series.histogram ? undefined : [series.value as Sample],
      );
    case 'matrix':
      return collect(result as { values?: Sample[]; histograms?: unknown }[], (series) =>
        series.histograms ? undefined : (series.values ?? []),
      );
    default:
      return err(
        `${where} returned a ${body.data?.resultType ?? 'missing'} result; conditions need a scalar, a vector or a matrix`,
      );
  }
}

function collect<S>(series: S[], samples: (series: S) => Sample[] | undefined): Result<Measurement, string> {
  if (!Array.isArray(series)) return err('Prometheus returned a result that is not a list');
  const values: number[] = [];
  for (const one of series) {
    const list = samples(one);
    if (!list)
      return err(
        'Prometheus returned native histogram samples, which have no single value; use histogram_quantile, histogram_count or histogram_sum',
      );
    for (const sample of list) {
      const value = sampleValue(sample);
      if (!value.ok) return value;
      values.push(value.value);
    }
  }
  return ok({ value: values });
}

const SPECIAL: Record<string, number> = {
  NaN: Number.NaN,
  '+Inf': Infinity,
  Inf: Infinity,
  '-Inf': -Infinity,
};

/** A sample's value: Prometheus sends it as a string so that NaN and the infinities survive JSON. */
function sampleValue(sample: Sample | undefined): Result<number, string> {
  const text = Array.isArray(sample) ? sample[1] : undefined;
  const special = typeof text === 'string' ? SPECIAL[text] : undefined;
  const value = special ?? (typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN);
  if (special === undefined && Number.isNaN(value))
    return err(`Prometheus returned a sample that is not a number: ${JSON.stringify(sample)}`);
  return ok(value);
}
