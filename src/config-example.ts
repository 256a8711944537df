// Renders .env.example from ENV_SCHEMA so the documentation cannot drift from the validation.
import { ENV_SCHEMA } from './config.js';

export function renderEnvExample(): string {
  const lines = [
    '# DareZone API configuration. Every variable is optional in development; copy to .env (never',
    '# committed) or set them in the environment. Generated from src/config.ts: npm run env:example',
    '',
  ];
  for (const [name, schema] of Object.entries(ENV_SCHEMA.properties)) {
    const s = schema as { description?: string; default?: string | number | boolean };
    lines.push(`# ${s.description ?? ''}`.trimEnd());
    lines.push(s.default === undefined || s.default === '' ? `# ${name}=` : `# ${name}=${String(s.default)}`);
    lines.push('');
  }
  return lines.join('\n');
}
