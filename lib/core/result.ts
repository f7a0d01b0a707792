/**
 * The one failure shape: a value or a reason, never a thrown error for input that is merely wrong.
 * `E` is a message by default; modules with richer failures (field paths, several problems) say so.
 */
export type Result<T, E = string> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
