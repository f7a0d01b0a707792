/**
 * zod's small API, with zod's English messages (zod/mini loads no locale and says only "Invalid
 * input"). For what the CLI reads on every run, where the full API's load time would be most of it.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export { z };
