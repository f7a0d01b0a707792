import { ClusterApiError } from '../../app/runner/ports.js';
import { statusMessage, type KubeResponse } from './http.js';

export { InvalidReferenceError } from '../../app/runner/ports.js';

/** An API call that failed: which call, on what, and what the API server said. */
export class KubeApiError extends ClusterApiError {
  constructor(
    status: number,
    readonly action: string,
    readonly detail: string,
    retryAfterSeconds?: number,
  ) {
    super(status, `${action}: HTTP ${status}: ${detail}`, retryAfterSeconds);
    this.name = 'KubeApiError';
  }

  static from(action: string, response: KubeResponse): KubeApiError {
    const header = response.headers['retry-after'];
    const retryAfter = Number(Array.isArray(header) ? header[0] : header);
    return new KubeApiError(
      response.status,
      action,
      statusMessage(response),
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}
