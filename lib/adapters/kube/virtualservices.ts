/**
 * VirtualServices: read one, apply a guarded JSON Patch to it. What to write is planned by
 * lib/core/istio and the re-read after a lost race is the runner's (lib/app/runner/traffic.ts).
 */
import type { TrafficRouter } from '../../app/runner/ports.js';
import type { JsonPatchOperation } from '../../core/istio/weights.js';
import { formatRef, type ObjectRef } from '../../core/model/references.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { err, ok, type Result } from '../../core/result.js';
import { InvalidReferenceError, KubeApiError } from './errors.js';
import { CONTENT_TYPES, type KubeHttp } from './http.js';
import { resourcePath, VIRTUAL_SERVICES } from './resources.js';

export class VirtualServiceClient implements TrafficRouter {
  constructor(private readonly http: KubeHttp) {}

  async get(ref: ObjectRef): Promise<VirtualService> {
    const response = await this.http.send<VirtualService>(
      'GET',
      resourcePath(VIRTUAL_SERVICES, ref.namespace, ref.name),
    );
    if (response.status === 404)
      throw new InvalidReferenceError([`VirtualService ${formatRef(ref)} not found`]);
    if (response.status !== 200) throw KubeApiError.from(`GET VirtualService ${formatRef(ref)}`, response);
    return response.body;
  }

  /** 422 is a failed `test` op, 409 a write that raced: both mean someone else changed it. */
  async apply(ref: ObjectRef, patch: JsonPatchOperation[]): Promise<Result<VirtualService, 'conflict'>> {
    const response = await this.http.send<VirtualService>(
      'PATCH',
      resourcePath(VIRTUAL_SERVICES, ref.namespace, ref.name),
      patch,
      CONTENT_TYPES.jsonPatch,
    );
    if (response.status === 200) return ok(response.body);
    if (response.status === 409 || response.status === 422) return err('conflict');
    throw KubeApiError.from(`PATCH VirtualService ${formatRef(ref)}`, response);
  }
}
