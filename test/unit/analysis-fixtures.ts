/** Analysis fixtures: Argo's documented templates, verbatim, as the engine and lint tests read them. */
import { parseAnalysisTemplate, type AnalysisTemplate } from '../../lib/core/analysis/template.js';
import { parseYamlDocuments } from '../../lib/core/model/yaml.js';

/** Argo's documented success-rate template (docs/features/analysis.md), verbatim. */
export const ARGO_SUCCESS_RATE = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: service-name
  metrics:
  - name: success-rate
    interval: 5m
    # NOTE: prometheus queries return results in the form of a vector.
    # So it is common to access the index 0 of the returned array to obtain the value
    successCondition: result[0] >= 0.95
    failureLimit: 3
    provider:
      prometheus:
        address: http://prometheus.example.com:9090
        query: |
          sum(irate(
            istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}",response_code!~"5.*"}[5m]
          )) /
          sum(irate(
            istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}"}[5m]
          ))
`;

export function yaml(text: string): unknown {
  const parsed = parseYamlDocuments(text, 'test.yaml');
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value[0];
}

export function template(text: string): AnalysisTemplate {
  const parsed = parseAnalysisTemplate(yaml(text));
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}
