/**
 * `rollouts rbac --cluster NAME`: the RBAC and admission policy to apply in one cluster, generated
 * from the registry the runner reads: a cdk.json (`--config`, else ./cdk.json) or, while local mode
 * runs, its state file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeploymentConfig } from '../../../infra/config.js';
import { parseClusterRegistry, type ClusterScope } from '../../core/model/clusters.js';
import { runnerAccessManifests } from '../../core/model/runner-access.js';
import { DEV_STATE_FILE, readDevState } from './connection.js';
import type { CommandOutput } from './store-commands.js';

export interface Registry {
  source: string;
  clusters: readonly ClusterScope[];
}

/** The cluster registry from `config` (a cdk.json), local mode's state, or ./cdk.json, in that order. */
export function readRegistry(config: string | undefined, directory = process.cwd()): Registry {
  const dev = config === undefined ? readDevState(directory) : undefined;
  if (dev) return { source: DEV_STATE_FILE, clusters: parseClusterRegistry(dev.clusters, DEV_STATE_FILE) };
  const path = config ?? join(directory, 'cdk.json');
  if (!existsSync(path))
    throw new Error(
      `no cluster registry: name a cdk.json with --config, run from the directory that holds it, or start local mode (${DEV_STATE_FILE})`,
    );
  const cdk = JSON.parse(readFileSync(path, 'utf8')) as { context?: { serverlessRollouts?: unknown } };
  return { source: path, clusters: parseDeploymentConfig(cdk.context?.serverlessRollouts).clusters };
}

export function rbac(registry: Registry, clusterName: string): CommandOutput {
  const cluster = registry.clusters.find((candidate) => candidate.name === clusterName);
  if (!cluster) {
    const known = registry.clusters.map((candidate) => candidate.name).join(', ') || 'none';
    return {
      ok: false,
      stderr: `cluster '${clusterName}' is not in ${registry.source} (registered: ${known})\n`,
    };
  }
  return { ok: true, stdout: runnerAccessManifests(cluster) };
}
