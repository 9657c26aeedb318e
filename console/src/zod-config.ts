import { z } from 'zod';

// zod compiles its object parsers with `new Function` when it may, deciding as each schema is
// built; the console's content security policy forbids that (no script but its own files).
// Imported first by main.tsx, so it runs before the contract's schemas are built.
z.config({ jitless: true });
