/**
 * The metric providers behind one MetricProvider: a metric's provider block has exactly one key,
 * which names the provider (`prometheus`, `cloudWatch`, `web`, Argo's spelling).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Measurement, MetricProvider } from '../../core/analysis/provider.js';
import { SUPPORTED_PROVIDERS } from '../../core/analysis/template.js';
import { err, ok, type Result } from '../../core/result.js';
import { AwsCredentials } from './aws-credentials.js';
import { CloudWatchProvider, cloudWatchSchema, type CloudWatchClientFactory } from './cloudwatch.js';
import { parseBlock } from './block.js';
import { PrometheusProvider, prometheusSchema } from './prometheus.js';
import { WebProvider, webSchema } from './web.js';

export type ProviderName = (typeof SUPPORTED_PROVIDERS)[number];

const SCHEMAS = { prometheus: prometheusSchema, cloudWatch: cloudWatchSchema, web: webSchema };

export interface ProviderOptions {
  /** The runner's AWS credentials (default: the Node provider chain) for CloudWatch and SigV4. */
  awsCredentials?: AwsCredentialIdentityProvider;
  /** How CloudWatch clients are made (tests inject one; the default is `new CloudWatchClient`). */
  cloudWatchClient?: CloudWatchClientFactory;
}

export function createProviders(options: ProviderOptions = {}): MetricProvider {
  const credentials = new AwsCredentials(options.awsCredentials);
  const providers: Record<ProviderName, MetricProvider> = {
    prometheus: new PrometheusProvider(credentials),
    cloudWatch: new CloudWatchProvider(credentials, options.cloudWatchClient),
    web: new WebProvider(),
  };
  return {
    async measure(block, measureOptions): Promise<Result<Measurement, string>> {
      const name = providerName(block);
      if (!name.ok) return name;
      try {
        return await providers[name.value].measure(block, measureOptions);
      } catch (error) {
        // The providers return their failures; this is the last guard of "never throws".
        return err(`${name.value} provider failed unexpectedly: ${(error as Error).message}`);
      }
    },
  };
}

/** Which provider a block names, or what is wrong with it. */
export function providerName(block: Record<string, unknown>): Result<ProviderName, string> {
  const keys = Object.keys(block ?? {});
  const supported = SUPPORTED_PROVIDERS.join(', ');
  if (keys.length !== 1)
    return err(
      `a metric's provider must name exactly one provider (${supported}); found ${keys.length ? keys.join(', ') : 'none'}`,
    );
  const key = keys[0] as string;
  if (!(SUPPORTED_PROVIDERS as readonly string[]).includes(key))
    return err(`unknown metric provider '${key}': supported providers are ${supported}`);
  return ok(key as ProviderName);
}

/**
 * Validates a provider block without measuring, for `rollouts lint` and `apply`: blocks with
 * `{{args.x}}` placeholders still in them should be checked after substitution.
 */
export function checkProviderBlock(block: Record<string, unknown>): Result<ProviderName, string> {
  const name = providerName(block);
  if (!name.ok) return name;
  const parsed = parseBlock(name.value, SCHEMAS[name.value], block);
  return parsed.ok ? name : parsed;
}
