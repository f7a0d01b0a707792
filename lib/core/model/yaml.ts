/** Reads YAML text with one or several documents into plain objects, failing with the document and line. */
import type { Result } from '../result.js';
import { parseAllDocuments } from 'yaml';

export type DocumentsResult = Result<unknown[], string[]>;

export function parseYamlDocuments(text: string, source: string): DocumentsResult {
  const errors: string[] = [];
  const documents: unknown[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    for (const error of document.errors) {
      const line = error.linePos?.[0]?.line;
      errors.push(
        `${source}: document ${index + 1}${line ? `, line ${line}` : ''}: ${error.message.split('\n')[0]}`,
      );
    }
    if (document.errors.length) return;
    let value: unknown;
    try {
      // Throws on an alias bomb (the yaml package's resource-exhaustion guard) and the like.
      value = document.toJS();
    } catch (error) {
      errors.push(`${source}: document ${index + 1}: ${(error as Error).message}`);
      return;
    }
    if (value !== null && value !== undefined) documents.push(value);
  });
  return errors.length ? { ok: false, error: errors } : { ok: true, value: documents };
}

export function kindOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const kind = (document as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : undefined;
}
