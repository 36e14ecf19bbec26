// Builds schema.graphql with graphql-js and runs its schema validation (see validate-schema).
import { readFileSync } from 'node:fs';
import { buildSchema, validateSchema } from 'graphql';
const sdl = readFileSync(process.argv[2], 'utf8');
const schema = buildSchema(sdl);
const errors = validateSchema(schema);
if (errors.length) { for (const e of errors) console.error(e.message); process.exit(1); }
console.log(`schema.graphql is valid: ${Object.keys(schema.getTypeMap()).length} types`);
