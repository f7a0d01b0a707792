/** `rollouts dashboard [--port N]`: serves the dashboard until Ctrl-C. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from '../cli/connection.js';
import { startDashboard } from './server.js';

/**
 * The built page, found from this module upwards: the sources (lib/app/dashboard) and the CLI
 * bundle (dist/cli) sit at different depths below the repository.
 */
export function pageDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'dist/dashboard');
    if (existsSync(join(candidate, 'app.js'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

export async function serveDashboard(connection: Connection, port: number | undefined): Promise<number> {
  const dir = pageDir();
  if (!dir) {
    process.stderr.write("rollouts dashboard: the page is not built: run 'npm run build'\n");
    return 1;
  }
  const dashboard = await startDashboard({ connection, pageDir: dir, ...(port ? { port } : {}) });
  process.stdout.write(
    `Dashboard: ${dashboard.url}\n(127.0.0.1 only; the token in the URL is this launch's; Ctrl-C stops it)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  return 0;
}
